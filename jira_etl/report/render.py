"""The report as one self-contained HTML file: inline CSS, charts as inline SVG, no
script, no external reference (fonts are the viewer's own sans-serif)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from jira_etl.report.data import SEVERITIES, ConnectorReport, gather

UTC = dt.timezone.utc
HERE = Path(__file__).parent
STATE_CLASS = {"Active": "ok", "Failing": "bad", "Incomplete": "bad", "Stale": "warn", "Never collected": "none"}


@dataclass
class Report:
    html: str
    connectors: list[ConnectorReport]
    start: dt.date
    end: dt.date

    def summary(self) -> str:
        """A few lines of markdown: each connector's state, gaps and findings by severity."""
        lines = [f"Report {self.start} .. {self.end}", ""]
        for c in self.connectors:
            by = {s: sum(1 for f in c.findings if f["severity"] == s) for s in SEVERITIES}
            found = ", ".join(f"{n} {s}" for s, n in by.items() if n) or "no findings"
            open_alerts = sum(1 for f in c.findings if f["severity"] in ("critical", "high") and f["status"] == "open")
            lines.append(f"- **{c.name}**: {c.status.state}, last partition {c.status.last_partition or '-'}, "
                         f"lag {c.lag_text()}, {c.total_records} records, {len(c.gaps)} gap day(s); "
                         f"{found}; {open_alerts} open high/critical")
        return "\n".join(lines)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["ts"] = lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if v else "-"
    env.filters["num"] = lambda v: f"{int(v):,}"
    return env


def _charts(c: ConnectorReport, start: dt.date, end: dt.date) -> dict[str, str | None]:
    # Imported here: altair's import is ~0.3 s of every `jira-etl backfill` and of each
    # code-location load, which import this module for the report asset's definition.
    from jira_etl.report import charts

    return {
        "records": charts.records_per_day(c.records_by_category, start, end),
        "findings": charts.findings_per_day(c.findings_by_severity, start, end),
        "heatmap": charts.actor_hour_heatmap(c.actor_hours),
        "actors": charts.top_bars(c.top_actors, "actor", "records", "#2563eb"),
        "objects": charts.top_bars(c.top_objects, "object", "changes", "#0f766e"),
        "new": charts.new_over_time(c.new_actors, c.new_ips, start, end),
    }


def build_report(warehouse, connectors: list[str], start: dt.date, end: dt.date,
                 now: dt.datetime | None = None) -> Report:
    now = now or dt.datetime.now(UTC)
    reports = gather(warehouse, connectors, start, end, now)
    sections = []
    for c in reports:
        groups = [(s, [f for f in c.findings if f["severity"] == s]) for s in SEVERITIES]
        sections.append({"c": c, "charts": _charts(c, start, end), "groups": [g for g in groups if g[1]],
                         "days_collected": sum(1 for d in c.days if d.state in ("collected", "empty"))})
    html = _env().get_template("template.html").render(
        start=start, end=end, days=(end - start).days + 1, now=now, sections=sections,
        state_class=STATE_CLASS, css=(HERE / "report.css").read_text())
    return Report(html=html, connectors=reports, start=start, end=end)


def write_report(report: Report, out: Path) -> Path:
    """Write the file whole or not at all (a reader never sees half a report)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(report.html, encoding="utf-8")
    os.replace(tmp, out)
    return out


def default_path(data_dir: Path, connector: str, end: dt.date) -> Path:
    """$JIRA_ETL_DATA_DIR/reports/<connector>/<YYYY-MM-DD>.html (named after the last day)."""
    return Path(data_dir) / "reports" / connector / f"{end.isoformat()}.html"
