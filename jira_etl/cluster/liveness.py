"""Run-worker liveness through Redis: each Celery run worker refreshes a key every few
seconds from a thread of its own, so a worker killed mid-run (its Celery task stays
STARTED for ever) is told apart from one still busy. A solo-pool worker answers no
ping while it runs a task; the thread does not need the worker's event loop."""

from __future__ import annotations

import threading

import redis

KEY = "jira_etl:run-worker-alive:{}"
PERIOD_S = 3.0
TTL_S = 15


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def beat_forever(url: str, hostname: str, stop: threading.Event) -> None:
    conn = client(url)
    while not stop.is_set():
        try:
            conn.set(KEY.format(hostname), "1", ex=TTL_S)
        except redis.RedisError:
            pass  # the broker is down: the worker gets no work either
        stop.wait(PERIOD_S)


def start(url: str, hostname: str) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=beat_forever, args=(url, hostname, stop), name="liveness", daemon=True).start()
    return stop


def alive(url: str, hostname: str) -> bool | None:
    """True/False, or None when Redis cannot be asked (then nothing is concluded)."""
    try:
        return bool(client(url).exists(KEY.format(hostname)))
    except redis.RedisError:
        return None
