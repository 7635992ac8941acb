"""Per-detection overrides from detections.yaml ($JIRA_ETL_DETECTIONS_CONFIG): enabled,
severity, parameters, grouping and allow-lists, read through a strict typed model.

    detections:
      mass_user_removal: {parameters: {threshold: 20}}
      off_hours_admin_activity: {enabled: false}
      new_user_created: {severity: medium, group_window_minutes: 120}
      user_removed_from_group:
        group_by: [actor, object]
        suppress:
          - {actors: [svc-sync], groups: [jira-users], reason: nightly directory sync, expires: 2026-12-31}

Strict: `enabled: "false"`, `threshold: true`, a string where a mapping belongs and
unknown keys are refused, each with a message naming the field.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jira_etl.detections import grouping
from jira_etl.detections.catalogue import CatalogueError, Detection, catalogue_by_id
from jira_etl.detections.suppression import Suppression

CONFIG_ENV = "JIRA_ETL_DETECTIONS_CONFIG"
GROUP_FIELD = Literal["actor", "object", "object_name", "remote_address", "target"]
_STRICT = ConfigDict(strict=True, extra="forbid")


class SuppressEntry(BaseModel):
    model_config = _STRICT
    reason: str = Field(min_length=1)
    actors: list[str] = []
    networks: list[str] = []
    groups: list[str] = []
    objects: list[str] = []
    expires: dt.date | None = None

    @field_validator("expires", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime) or not isinstance(value, (dt.date, str, type(None))):
            raise ValueError("must be a date, YYYY-MM-DD")
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date, YYYY-MM-DD") from None
        return value

    @field_validator("networks")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for n in value:
            try:
                ipaddress.ip_network(n, strict=False)
            except ValueError:
                raise ValueError(f"{n!r} is not an address or CIDR network") from None
        return value

    @model_validator(mode="after")
    def _some_criterion(self) -> "SuppressEntry":
        if not (self.actors or self.networks or self.groups or self.objects):
            raise ValueError("an entry needs at least one of actors, networks, groups, objects")
        return self

    def to_suppression(self) -> Suppression:
        return Suppression(reason=self.reason, actors=tuple(self.actors),
                           networks=tuple(ipaddress.ip_network(n, strict=False) for n in self.networks),
                           groups=tuple(self.groups), objects=tuple(self.objects), expires=self.expires)


class DetectionEntry(BaseModel):
    model_config = _STRICT
    enabled: bool | None = None
    severity: Literal["low", "medium", "high", "critical"] | None = None
    parameters: dict[str, Any] = {}
    group_by: list[GROUP_FIELD] | None = Field(None, min_length=1)
    group_window_minutes: int | None = Field(None, ge=0)
    group_message: str | None = None
    suppress: list[SuppressEntry] = []

    @field_validator("group_message")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        problems = grouping.message_problems(value) if value is not None else []
        if problems:
            raise ValueError("; ".join(problems))
        return value


class DetectionsFile(BaseModel):
    model_config = _STRICT
    detections: dict[str, DetectionEntry] = {}

    @field_validator("detections", mode="before")
    @classmethod
    def _empty_entries(cls, value: Any) -> Any:
        # `off_hours_admin_activity:` with nothing under it is an empty entry.
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return {} if value is None else value


@dataclass(frozen=True)
class Settings:
    """Per-detection overrides: enabled, severity, parameters, grouping, allow-lists."""

    enabled: dict[str, bool] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    grouping: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppress: dict[str, tuple[Suppression, ...]] = field(default_factory=dict)

    def is_enabled(self, det: Detection) -> bool:
        return self.enabled.get(det.id, True)

    def severity_of(self, det: Detection) -> str:
        return self.severity.get(det.id, det.severity)

    def grouping_of(self, det: Detection) -> grouping.GroupSpec:
        return det.grouping(self.grouping.get(det.id))

    def suppressions_of(self, det: Detection) -> tuple[Suppression, ...]:
        return self.suppress.get(det.id, ())


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        msg = re.sub(r" or instance of \w+", "", err["msg"].removeprefix("Value error, "))
        shown = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {_input(err.get('input'))})"
        out.append(f"{_where(err['loc'])}: {msg}{shown}")
    return out


def _parameter_problem(det_id: str, name: str, value: Any, default: Any) -> str | None:
    like = f"{det_id}: parameter '{name}' must be like {default!r}, got {value!r}"
    if isinstance(default, bool):
        return None if isinstance(value, bool) else like
    if isinstance(default, (int, float)):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else like
    if isinstance(default, list):
        if not isinstance(value, list):
            return like
        kinds = {type(v) for v in default}
        return None if not kinds or all(type(v) in kinds for v in value) else like
    return None if type(value) is type(default) else like


def load_settings(path: str | Path | None = None) -> Settings:
    """Overrides from a YAML file ($JIRA_ETL_DETECTIONS_CONFIG, else ./detections.yaml if
    present); raises CatalogueError listing every problem."""
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        path = Path(env) if env else Path.cwd() / "detections.yaml"
        if not env and not path.exists():
            return Settings()
    path = Path(path)
    if not path.exists():
        raise CatalogueError(f"{CONFIG_ENV}: {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping with key 'detections'")
    try:
        model = DetectionsFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(f"{path}: " + "; ".join(_model_problems(exc))) from None
    by_id = catalogue_by_id()
    problems: list[str] = []
    settings = Settings()
    for det_id, entry in model.detections.items():
        det = by_id.get(det_id)
        if det is None:
            problems.append(f"unknown detection '{det_id}'")
            continue
        if entry.enabled is not None:
            settings.enabled[det_id] = entry.enabled
        if entry.severity is not None:
            settings.severity[det_id] = entry.severity
        for name, value in entry.parameters.items():
            if name not in det.parameters:
                problems.append(f"{det_id}: unknown parameter '{name}' (known: {sorted(det.parameters)})")
                continue
            problem = _parameter_problem(det_id, name, value, det.parameters[name])
            if problem:
                problems.append(problem)
            settings.parameters.setdefault(det_id, {})[name] = value
        group = {k: v for k, v in entry.model_dump(include=set(grouping_keys())).items() if v is not None}
        if group:
            settings.grouping[det_id] = group
        if entry.suppress:
            settings.suppress[det_id] = tuple(s.to_suppression() for s in entry.suppress)
    if problems:
        raise CatalogueError(f"{path}: " + "; ".join(problems))
    return settings


def grouping_keys() -> tuple[str, ...]:
    return ("group_by", "group_window_minutes", "group_message")
