"""OCSF 1.3.0 validation against the published schema, offline: the JSON Schemas that
the `ocsf-json-schema` wheel ships, checked with `jsonschema` (Draft 2020-12), with the
profiles each event declares in metadata.profiles."""

from __future__ import annotations

from functools import cache

import jsonschema
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema


@cache
def _schemas() -> OcsfJsonSchemaEmbedded:
    return OcsfJsonSchemaEmbedded(get_ocsf_schema(version="1.3.0"))


@cache
def validator(class_uid: int, profiles: tuple[str, ...]) -> jsonschema.Draft202012Validator:
    s = _schemas()
    schema = s.get_class_schema(class_name=s.lookup_class_name_from_uid(class_uid=class_uid), profiles=list(profiles))
    return jsonschema.Draft202012Validator(schema)


def errors(event: dict) -> list[str]:
    """Schema violations of one event (empty: valid OCSF 1.3.0)."""
    profiles = tuple(sorted((event.get("metadata") or {}).get("profiles") or []))
    try:
        v = validator(int(event["class_uid"]), profiles)
    except Exception as exc:  # noqa: BLE001 - an unknown class is a violation too
        return [f"no OCSF 1.3.0 class for {event.get('class_uid')!r}: {exc}"]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(event)]
