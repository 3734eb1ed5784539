"""The processes a bench starts: manage.py commands and db_worker processes, all run with the
production settings Herald is deployed with, against the database this process uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def bench_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a bench subprocess using the database at `url`."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        # Production settings: with DEBUG on, Django records every query it runs.
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "HERALD_SIMULATOR_LATENCY": "ai_voice=0,sms=0,email=0",
        "HERALD_SIMULATOR_ERROR_RATE": "0",
        "HERALD_LOG_LEVEL": "WARNING",
        **extra,
    }


def database_url() -> str:
    """The URL of the database this process uses, for a subprocess to use the same one."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s.get("USER") or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def manage(*args: str) -> list[str]:
    """The command line of `manage.py *args` with this interpreter."""
    return [sys.executable, str(ROOT / "manage.py"), *args]


def start_workers(count: int, **extra_env: str) -> list[subprocess.Popen]:
    env = bench_env(database_url(), **extra_env)
    command = manage("db_worker", "--no-reload", "--interval", "0.05", "--no-startup-delay")
    return [
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(count)
    ]


def stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
