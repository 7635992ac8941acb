"""python -m jira_etl.simulator --port N [--seed S] [--volume V] [--tz +0530]"""
from __future__ import annotations

import argparse

from .server import serve


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m jira_etl.simulator",
                                description="Run the Jira Cloud audit-log API simulator.")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--volume", type=int, default=None,
                   help="records per day (default: realistic volumes)")
    p.add_argument("--tz", default="+0000", help="offset created is rendered in")
    p.add_argument("--email", default="demo@jira-etl.local")
    p.add_argument("--token", default="demo-token")
    p.add_argument("--plant", action="store_true",
                   help="plant every detection scenario over the last 30 days")
    a = p.parse_args(argv)
    serve(port=a.port, seed=a.seed, volume=a.volume, tz=a.tz, host=a.host,
          email=a.email, token=a.token, plant=a.plant)


if __name__ == "__main__":
    main()
