"""The report's charts: Vega-Lite specs built with altair, rendered to static SVG by
vl-convert (its own embedded engine, no browser, no network).

Static SVG rather than a JavaScript chart library: the report then needs no script to
view, prints as it shows and survives mail clients that strip scripts; each chart is
tens of kilobytes, where Plotly's inlined library alone is about 4.8 MB.
Each function returns the SVG text, or None when there is nothing to draw (the
template then says so in words).
"""

from __future__ import annotations

import datetime as dt
import itertools

import altair as alt
import pandas as pd

SEVERITY_COLORS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#60a5fa"}
WIDTH = 760
_chart_ids = itertools.count(1)


def _svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    spec = chart.configure_view(stroke=None).configure_axis(labelFontSize=11, titleFontSize=11) \
        .configure_legend(labelFontSize=11, titleFontSize=11).to_json()
    svg = vlc.vegalite_to_svg(spec)
    # Ids inside one SVG (gradients, clip paths) are document-wide once inlined, and every
    # chart numbers its own from 0: give each chart its own prefix.
    n = next(_chart_ids)
    svg = svg.replace('id="', f'id="c{n}-').replace("url(#", f"url(#c{n}-").replace('href="#', f'href="#c{n}-')
    # The root element states its size in pixels; let it shrink to the page (and print).
    return svg.replace("<svg ", '<svg class="chart" preserveAspectRatio="xMinYMin meet" ', 1)


def _days(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _day_axis(start: dt.date, end: dt.date) -> alt.X:
    # Every day of the period on the axis, quiet days included, so charts line up.
    return alt.X("day:O", title=None, scale=alt.Scale(domain=_days(start, end)),
                 axis=alt.Axis(labelAngle=-60, labelExpr="slice(datum.value, 5)", labelOverlap=True))


def _with_day_text(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["day"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d")
    return frame


def records_per_day(frame: pd.DataFrame, start: dt.date, end: dt.date) -> str | None:
    if frame.empty or frame["records"].sum() == 0:
        return None
    chart = alt.Chart(_with_day_text(frame)).mark_bar().encode(
        x=_day_axis(start, end),
        y=alt.Y("sum(records):Q", title="records"),
        color=alt.Color("category:N", title="category", scale=alt.Scale(scheme="tableau20")),
        order=alt.Order("category:N"),
        tooltip=["day", "category", "records"],
    ).properties(width=WIDTH - 160, height=220)
    return _svg(chart)


def findings_per_day(frame: pd.DataFrame, start: dt.date, end: dt.date) -> str | None:
    if frame.empty:
        return None
    present = [s for s in SEVERITY_COLORS if s in set(frame["severity"])]
    chart = alt.Chart(_with_day_text(frame)).mark_bar().encode(
        x=_day_axis(start, end),
        y=alt.Y("sum(findings):Q", title="findings", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("severity:N", title="severity",
                        scale=alt.Scale(domain=present, range=[SEVERITY_COLORS[s] for s in present])),
        order=alt.Order("rank:Q"),
    ).transform_calculate(rank="indexof(['critical','high','medium','low'], datum.severity)") \
     .properties(width=WIDTH - 160, height=160)
    return _svg(chart)


def actor_hour_heatmap(frame: pd.DataFrame) -> str | None:
    if frame.empty:
        return None
    order = frame.groupby("actor")["records"].sum().sort_values(ascending=False).index.tolist()
    chart = alt.Chart(frame).mark_rect().encode(
        x=alt.X("hour:O", title="hour of day (UTC)", scale=alt.Scale(domain=list(range(24))),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("actor:N", title=None, sort=order),
        color=alt.Color("records:Q", title="records", scale=alt.Scale(scheme="blues")),
    ).properties(width=WIDTH - 300, height=max(80, 16 * len(order)))
    return _svg(chart)


def top_bars(frame: pd.DataFrame, label: str, value: str, color: str) -> str | None:
    if frame.empty:
        return None
    frame = frame.copy()
    # Long object names would squeeze the bars; the full name is in the tables below.
    frame[label] = frame[label].astype(str).map(lambda s: s if len(s) <= 48 else s[:47] + "…")
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", title=None, sort="-x"),
        x=alt.X(f"{value}:Q", title=value),
    )
    chart = (base.mark_bar(color=color) + base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=f"{value}:Q")).properties(width=WIDTH - 420, height=max(60, 18 * len(frame)))
    return _svg(chart)


def new_over_time(actors: pd.DataFrame, ips: pd.DataFrame, start: dt.date, end: dt.date) -> str | None:
    parts = [f.assign(kind=k) for f, k in ((actors, "new actors"), (ips, "new source IPs")) if not f.empty]
    if not parts:
        return None
    frame = _with_day_text(pd.concat(parts, ignore_index=True))
    chart = alt.Chart(frame).mark_bar().encode(
        x=_day_axis(start, end),
        xOffset=alt.XOffset("kind:N"),
        y=alt.Y("new:Q", title="first seen", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["new actors", "new source IPs"],
                                                              range=["#7c3aed", "#0d9488"])),
    ).properties(width=WIDTH - 160, height=160)
    return _svg(chart)
