"""The analyst's report: one self-contained HTML file per connector and period, with the
collection status, charts and the period's findings (`jira-etl report`, asset
`<connector>/report`). data.py reads the warehouse, charts.py draws, render.py writes."""
