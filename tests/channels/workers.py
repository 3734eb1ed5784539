"""Real `manage.py db_worker` processes against the test database, for integration tests."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

FAST_ENGINE_ENV = {
    "HERALD_SIMULATOR_LATENCY": "ai_voice=0.2,sms=0,email=0",
    "HERALD_SIMULATOR_ERROR_RATE": "0",
    "HERALD_LEASE_SECONDS": "3",
    "HERALD_SUPERVISOR_SECONDS": "1",
    "HERALD_SLICE_SECONDS": "0.5",
    "HERALD_BATCH_SIZE": "200",
    # Outcomes lost with a killed worker (the simulator's report task dies with it) are
    # closed this soon, as a real provider's missing webhook would be (SPEC G4).
    "HERALD_OUTCOME_TIMEOUT": "ai_voice=5,sms=5,email=5",
}


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{port}/{db['NAME']}"


class Workers:
    """Starts and stops worker processes by their own pids."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            **FAST_ENGINE_ENV,
            **env,
            "DATABASE_URL": test_database_url(),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            log = open(self.tmp_path / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
            process = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.05"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.processes.append(process)
            started.append(process)
        return started

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def stop_all(self) -> None:
        for process in self.alive():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(process)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.tmp_path.glob("worker-*.log")))
