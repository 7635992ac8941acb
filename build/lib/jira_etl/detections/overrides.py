"""Per-detection overrides from detections.yaml ($JIRA_ETL_DETECTIONS_CONFIG): enabled,
severity, parameters."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jira_etl.detections.catalogue import SEVERITIES, CatalogueError, Detection, catalogue_by_id

CONFIG_ENV = "JIRA_ETL_DETECTIONS_CONFIG"


@dataclass(frozen=True)
class Settings:
    """Per-detection overrides: enabled, severity, parameters."""

    enabled: dict[str, bool] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def is_enabled(self, det: Detection) -> bool:
        return self.enabled.get(det.id, True)

    def severity_of(self, det: Detection) -> str:
        return self.severity.get(det.id, det.severity)


def load_settings(path: str | Path | None = None) -> Settings:
    """Overrides from a YAML file ($JIRA_ETL_DETECTIONS_CONFIG, else ./detections.yaml if present):

        detections:
          mass_user_removal: {parameters: {threshold: 20}}
          off_hours_admin_activity: {enabled: false}
          new_user_created: {severity: medium}
    """
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        path = Path(env) if env else Path.cwd() / "detections.yaml"
        if not env and not path.exists():
            return Settings()
    path = Path(path)
    if not path.exists():
        raise CatalogueError(f"{CONFIG_ENV}: {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    entries = data.get("detections", {}) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise CatalogueError(f"{path}: expected a mapping under 'detections'")
    by_id = catalogue_by_id()
    problems, enabled, severity, params = [], {}, {}, {}
    for det_id, entry in entries.items():
        det = by_id.get(det_id)
        if det is None:
            problems.append(f"unknown detection '{det_id}'")
            continue
        entry = entry or {}
        if "enabled" in entry:
            enabled[det_id] = bool(entry["enabled"])
        if "severity" in entry:
            if entry["severity"] not in SEVERITIES:
                problems.append(f"{det_id}: severity '{entry['severity']}' is not one of {SEVERITIES}")
            severity[det_id] = entry["severity"]
        for name, value in (entry.get("parameters") or {}).items():
            if name not in det.parameters:
                problems.append(f"{det_id}: unknown parameter '{name}' (known: {sorted(det.parameters)})")
            elif type(value) is not type(det.parameters[name]) and not (
                isinstance(value, (int, float)) and isinstance(det.parameters[name], (int, float))
            ):
                problems.append(f"{det_id}: parameter '{name}' must be like {det.parameters[name]!r}")
            params.setdefault(det_id, {})[name] = value
    if problems:
        raise CatalogueError(f"{path}: " + "; ".join(problems))
    return Settings(enabled=enabled, severity=severity, parameters=params)


