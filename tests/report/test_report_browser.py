"""The demo month's report rendered in a real headless Chromium: charts drawn, the
collection status of the connector, the planted findings with their actors, and not
one request leaving the machine. Screenshots and a PDF stay in data/test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

from report_browser import Browser, chromium_or_skip
from report_helpers import planted_actor_names

ARTIFACTS = Path(__file__).resolve().parents[2] / "data" / "test-artifacts" / "report"
PLANTED = {"privilege_escalation_chain": "critical", "mass_user_removal": "high", "new_site_admin": "high",
           "global_permission_added": "medium"}

PAGE_FACTS = """(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(s => {
    const r = s.getBoundingClientRect();
    return {w: r.width, h: r.height, marks: s.querySelectorAll('path, rect, line').length,
            texts: s.querySelectorAll('text').length};
  });
  const status = [...document.querySelectorAll('#collection-status tbody tr')].map(tr =>
    ({connector: tr.dataset.connector, cells: [...tr.cells].map(td => td.innerText.trim())}));
  const findings = [...document.querySelectorAll('details.finding')].map(d =>
    ({severity: d.dataset.severity, id: d.dataset.finding, actor: d.querySelector('.actor').innerText,
      summary: d.querySelector('summary').innerText}));
  const strip = [...document.querySelectorAll('.strip .d')].map(d => d.className);
  const first = document.querySelector('details.finding');
  first.open = true;
  const rows = [...first.querySelectorAll('tbody tr')].filter(tr => tr.offsetHeight > 0).length;
  return {charts, status, findings, strip, openedRows: rows, title: document.title};
})()"""


def test_demo_month_report_renders_offline_in_chromium(demo_month):
    binary = chromium_or_skip()
    html = demo_month.report.read_text()
    assert demo_month.report.name == f"{demo_month.end}.html"
    # Nothing the page could fetch: no URL in src/href/url(), no script at all; the only
    # http(s) strings are SVG namespace names, which are never requested.
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"'#][^"']*)["']|url\(([^)]*)\)""", html)
    assert [r for r in refs if any(r) and not "".join(r).startswith("#")] == []
    assert "<script" not in html.lower()
    assert {u for u in re.findall(r"https?://[^\s\"'<>)]+", html)} <= {"http://www.w3.org/2000/svg",
                                                                         "http://www.w3.org/1999/xlink"}
    assert len(html.encode()) < 3 * 1024 * 1024

    with Browser(binary) as b:
        b.open(demo_month.report.as_uri())
        facts = b.js(PAGE_FACTS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = b.screenshot(ARTIFACTS / "demo_month_report.png")
        pdf = b.pdf(ARTIFACTS / "demo_month_report.pdf")
        urls = b.requested_urls()

    # The page itself is the only request: a file:// URL, nothing on the network.
    assert urls and all(u.startswith(("file://", "data:", "about:")) for u in urls), urls
    assert shot.stat().st_size > 50_000 and pdf.read_bytes().startswith(b"%PDF")

    # Six charts, each drawn with real size and content (marks, axis labels).
    assert len(facts["charts"]) == 6, facts["charts"]
    for chart in facts["charts"]:
        assert chart["w"] > 200 and chart["h"] > 80 and chart["marks"] > 20 and chart["texts"] > 5, chart

    # Collection status: the demo connector, Active, its last partition, 30 of 30 days.
    assert [s["connector"] for s in facts["status"]] == ["demo"]
    cells = facts["status"][0]["cells"]
    assert cells[1] == "Active" and cells[2] == str(demo_month.end) and cells[6] == "30 / 30", cells
    assert facts["strip"] == ["d day-collected"] * 30

    # Every planted attack appears at its severity with its actor's name.
    names = planted_actor_names()
    found = facts["findings"]
    assert {f["actor"] for f in found if f["severity"] in ("critical", "high")} <= names | {"system"}
    for title_part, severity in (("admin", "critical"), ("Mass removal", "high"), ("admin group", "high"),
                                 ("Global permission", "medium")):
        hits = [f for f in found if f["severity"] == severity and title_part.lower() in f["summary"].lower()]
        assert hits and all(h["actor"] in names for h in hits), (title_part, severity, found)
    assert facts["openedRows"] >= 1  # an opened finding shows its records


def test_the_request_recorder_sees_a_page_reaching_out(tmp_path):
    """The offline assertion above means something: a page that loads an image from
    elsewhere (here a closed loopback port) shows up in the recorded requests."""
    binary = chromium_or_skip()
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    with Browser(binary) as b:
        b.open(page.as_uri())
        urls = b.requested_urls()
    assert "http://127.0.0.1:9/pixel.png" in urls
