"""`make bench`: the collector measured against the floor, a peer (dlt) and its targets.

Run with `python -m jira_etl.bench` (see __main__.py). Nothing here is imported by the
pipeline or by `make test` (apart from a smoke test on a tiny size).
"""
