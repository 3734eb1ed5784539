"""When the database does not answer, Herald says so (issue 13, point 6): /health/ is a 503
with a JSON reason, pages are a "database unavailable" 503, and db_worker waits for it.

The database is really unreachable here: the default connection is pointed at a closed
port (PostgreSQL) or at a file in a folder that does not exist (SQLite).
"""

import os
import subprocess
import sys
import time

import pytest
from django.db import ProgrammingError, connection
from django.test import Client, RequestFactory

from config.views import server_error
from tests.channels import workers


@pytest.fixture
def unreachable_database(django_db_blocker, tmp_path):
    real = connection.settings_dict
    broken = dict(real)
    if connection.vendor == "sqlite":
        broken["NAME"] = str(tmp_path / "no-such-folder" / "herald.sqlite3")
    else:
        broken["HOST"], broken["PORT"] = "127.0.0.1", "1"
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict = broken
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict = real


def test_health_answers_ok_when_the_database_answers(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_answers_503_with_a_json_reason(unreachable_database):
    response = Client(raise_request_exception=False).get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "database unreachable (OperationalError)",
    }


@pytest.mark.parametrize("path", ["/campaigns/", "/accounts/login/", "/contacts/"])
def test_pages_answer_a_database_unavailable_503(unreachable_database, path):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-the-database-would-have-to-look-up"
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "<h1>Database unavailable</h1>" in response.content.decode()


def test_a_bad_query_stays_a_500():
    try:
        raise ProgrammingError("column does not exist")
    except ProgrammingError:
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the database appears by a symlink to the SQLite test file",
)
def test_db_worker_waits_for_the_database_and_then_starts(transactional_db, tmp_path):
    folder = tmp_path / "not-yet"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'herald.sqlite3'}",
        "HERALD_WORKER_MAX_BACKOFF": "1",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1"],
            cwd=workers.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: log.read_text().count("retrying in") >= 3, worker, log)
        assert "retrying in 0.5 s" in log.read_text()
        assert "retrying in 1.0 s" in log.read_text()

        folder.mkdir()
        (folder / "herald.sqlite3").symlink_to(
            workers.test_database_url().removeprefix("sqlite:///")
        )
        wait_for(lambda: "Starting worker" in log.read_text(), worker, log)
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def wait_for(condition, worker: subprocess.Popen, log, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.poll() is None, f"db_worker exited:\n{log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)
