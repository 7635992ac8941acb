"""SQL files as the package keeps them: statements split on `;` at line ends, and an
optional leading `--` comment block of YAML metadata. Shared by the storage layer (DDL,
hunting views) and the detections (rules)."""

from __future__ import annotations

import re

import yaml

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split_header(text: str) -> tuple[dict, str]:
    """The leading `--` comment block as YAML, and the SQL after it."""
    lines = text.splitlines()
    header: list[str] = []
    i = 0
    while i < len(lines) and (lines[i].startswith("--") or not lines[i].strip()):
        if lines[i].startswith("--"):
            header.append(lines[i][3:] if lines[i].startswith("-- ") else lines[i][2:])
        i += 1
    # libyaml's safe loader when present (every definitions load parses 29 headers).
    meta = yaml.load("\n".join(header), Loader=_SAFE_LOADER) if header else None
    body = "\n".join(lines[i:]).strip().rstrip(";").strip()
    return (meta if isinstance(meta, dict) else {}), body




def statements(text: str) -> list[str]:
    """The statements of a SQL text, comment lines dropped, split on `;` at line ends."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";\n") if s.strip().rstrip(";").strip()]


def sql_params(sql: str) -> set[str]:
    # Strip comments and string literals so '$x' inside either is not a parameter.
    no_comments = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    no_strings = re.sub(r"'(?:[^']|'')*'", "''", no_comments)
    return set(_PARAM.findall(no_strings))
