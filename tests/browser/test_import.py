"""Upload a CSV on a list's page, watch the import's progress bar reach the end, download
the error report; the import runs in a real `db_worker` process."""

import csv
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from campaigns.models import ContactList, ImportJob
from tests.factories import ContactListFactory, ImportJobFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 3_000
BAD_EVERY = 500


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def worker(media):
    """`db_worker` on the database this test sees, and on the same media folder."""
    if connection.vendor != "sqlite":
        pytest.skip("the browser leg runs on SQLite")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
        "MEDIA_ROOT": str(media),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield process
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def write_csv(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Phone", "Email", "City"])
        for i in range(ROWS):
            phone = "not a phone" if i % BAD_EVERY == 0 else f"(202) 555-{i:04d}"
            writer.writerow([f"Person {i}", phone, f"person{i}@example.com", "Springfield"])
    return path


def test_it_uploads_watches_progress_and_downloads_the_report(
    page, live_server, sign_in, manager, worker, screenshot, tmp_path
):
    contact_list = ContactListFactory(name="Springfield")
    sign_in(manager)
    page.goto(f"{live_server.url}{contact_list.get_absolute_url()}")
    page.get_by_label("CSV file").set_input_files(str(write_csv(tmp_path / "springfield.csv")))
    page.get_by_role("button", name="Import", exact=True).click()

    progress = page.locator("#import-progress")
    progress.get_by_text("Completed").wait_for(timeout=60_000)
    assert worker.poll() is None, worker.stderr.read().decode()
    bar = progress.locator("progress")
    assert bar.get_attribute("value") == "100"
    rejected = ROWS // BAD_EVERY
    assert progress.locator('[data-count="read"]').inner_text() == f"{ROWS:,}"
    assert progress.locator('[data-count="imported"]').inner_text() == f"{ROWS - rejected:,}"
    assert progress.locator('[data-count="merged"]').inner_text() == "0"
    assert progress.locator('[data-count="rejected"]').inner_text() == str(rejected)
    # The contacts region refreshes by itself once the import has ended.
    page.locator("#contacts").get_by_role("link", name="Person 1", exact=True).wait_for()
    # And the header's figure with it (it said "0 contacts" until a reload).
    expect(page.locator("#list-summary")).to_contain_text(f"{ROWS - rejected:,} contacts")
    screenshot("import-completed")

    with page.expect_download() as download_info:
        progress.get_by_role("link", name="Download the report").click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "column", "reason"]
    assert [row[0] for row in rows[1:]] == [str(i + 2) for i in range(0, ROWS, BAD_EVERY)]
    assert rows[1][1:] == ["Phone", "“not a phone” is not a phone number."]

    contact_list.refresh_from_db()
    assert contact_list.size == ROWS - rejected
    assert ImportJob.objects.get().status == ImportJob.Status.COMPLETED
    assert ContactList.objects.count() == 1


def test_a_manager_cancels_a_running_import_after_confirming(
    page, live_server, sign_in, manager, media, screenshot
):
    """No worker runs, so the import stays running (polled) until it is cancelled."""
    job = ImportJobFactory(status=ImportJob.Status.RUNNING, rows_imported=5)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in(manager)
    page.goto(f"{live_server.url}{job.get_absolute_url()}")
    progress = page.locator("#import-progress")
    progress.get_by_role("button", name="Cancel", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    dialog.get_by_text("The contacts it imported so far stay in the list").wait_for()
    screenshot("import-cancel-confirm")
    assert dialog.get_by_role("button", name="Keep importing").is_visible()
    dialog.get_by_role("button", name="Cancel import").click()
    progress.get_by_text("The 5 contacts it imported stay in the list").wait_for(timeout=10_000)
    assert progress.get_by_role("button", name="Cancel", exact=True).count() == 0
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert not job.file
    assert not errors
