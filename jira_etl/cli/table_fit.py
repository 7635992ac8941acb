"""A table that fits the terminal: columns wider than their share are wrapped (long
messages first), so no line is wider than the terminal (`$COLUMNS` or the tty's width)."""

from __future__ import annotations

import re
import shutil


def terminal_width(default: int = 120) -> int:
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken at spaces, and after an underscore or a
    hyphen (identifiers such as user_removed_from_group); longer words are cut."""
    out: list[str] = []
    for para in (text or "").splitlines() or [""]:
        line, space = "", ""
        for word in para.split(" "):
            if not word:
                space += " " if line else ""
                continue
            for piece in re.findall(r"[^_-]*[_-]|[^_-]+", word):
                if line and len(line) + len(space) + len(piece) <= width:
                    line += space + piece
                elif not line and len(piece) <= width:
                    line = piece
                else:
                    if line:
                        out.append(line)
                    while len(piece) > width:
                        out.append(piece[:width])
                        piece = piece[width:]
                    line = piece
                space = ""
            space = " "
        out.append(line)
    return out


def _width(cells: list[str]) -> int:
    return max((len(line) for c in cells for line in (c.splitlines() or [""])), default=0)


def narrowest(headers: list[str], minimums: dict[str, int]) -> int:
    """The narrowest terminal `fit` can fill without cutting lines."""
    return sum(max(len(h), minimums.get(h, len(h))) for h in headers) + 3 * len(headers) + 1


def stacked(records: list[tuple[list[str], str]], width: int) -> str:
    """For a terminal too narrow for the table: each record as its fields on one line
    (wrapped), then its text indented below."""
    out = []
    for fields, text in records:
        line = ""
        for f in (f for f in fields if f):
            if line and len(line) + 2 + len(f) > width:
                out.append(line)
                line = ""
            if len(f) > width:
                out += wrap(f, width)
                continue
            line = f"{line}  {f}" if line else f
        if line:
            out.append(line)
        out += ["    " + line for line in wrap(text, width - 4)]
        out.append("")
    return "\n".join(out).rstrip("\n")


def fit(headers: list[str], rows: list[list[str]], width: int, minimums: dict[str, int],
        first: str | None = None, caps: dict[str, int] | None = None) -> str:
    """A github-style table of `rows` no wider than `width`. When the natural widths do
    not fit: the columns named in `caps` are cut to their cap, the `first` column (the
    message) shrinks to 40% of the room, then the widest other column shrinks toward its
    minimum, then `first` toward its own. The cells of a shrunk column are wrapped (a
    grid separates rows once any cell wraps)."""
    from tabulate import tabulate

    n = len(headers)
    widths = [max(_width([h]), _width([r[i] for r in rows])) for i, h in enumerate(headers)]
    mins = [min(widths[i], max(len(h), minimums.get(h, 10**6))) for i, h in enumerate(headers)]
    room = width - (3 * n + 1)  # "| " + cell + " " per column, and the last "|"

    def excess() -> int:
        return sum(widths) - room

    if excess() > 0:
        for i, h in enumerate(headers):
            if h != first and h in (caps or {}):
                widths[i] = max(mins[i], min(widths[i], caps[h]))
    m = headers.index(first) if first in headers else None
    if m is not None and excess() > 0:
        target = max(mins[m], min(widths[m], int(room * 0.4)))
        widths[m] = max(target, widths[m] - excess())
    while excess() > 0:
        slack = [(widths[i] - mins[i], i) for i in range(n) if i != m and widths[i] > mins[i]]
        if not slack:
            break
        widths[max(slack)[1]] -= 1
    if m is not None and excess() > 0:
        widths[m] = max(mins[m], widths[m] - excess())
    wrapped = False
    shown = []
    for r in rows:
        cells = []
        for i, cell in enumerate(r):
            lines = wrap(cell, widths[i]) if _width([cell]) > widths[i] else (cell.splitlines() or [""])
            wrapped |= len(lines) > 1
            cells.append("\n".join(lines))
        shown.append(cells)
    # No padding beyond the widest cell: the widths above are the columns' own.
    import tabulate as tabulate_module

    saved = tabulate_module.MIN_PADDING
    tabulate_module.MIN_PADDING = 0
    try:
        text = tabulate(shown, headers=headers, tablefmt="grid" if wrapped else "github", disable_numparse=True)
    finally:
        tabulate_module.MIN_PADDING = saved
    # A terminal narrower than every column's minimum: cut the lines rather than let
    # them wrap in the terminal.
    return "\n".join(line[:width] for line in text.splitlines())
