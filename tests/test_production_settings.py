"""With DEBUG=0 and HTTPS=1 Herald passes Django's deployment checklist (issue 13, point 5)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.views.defaults import server_error

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "0",
    "HTTPS": "1",
    "SECRET_KEY": "x7Qv-9mK2pLr8sT4wZ1yB6nH3jF5dG0cV-aE7uI2oP9qR4tY8wX1zS6bN3mK5lJ0",
    "ALLOWED_HOSTS": "herald.example.com",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' set-up (Playwright runs an event
    # loop in the test thread); a deployment never has it.
    left_out = ("DEBUG", "HTTPS", "BEHIND_PROXY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in left_out}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_passes_check_deploy_without_a_warning():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_trusts_the_proxy_header_only_when_told_it_is_behind_a_proxy():
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    alone = run_manage("shell", "-v", "0", "-c", code, **PRODUCTION)
    proxied = run_manage("shell", "-v", "0", "-c", code, **PRODUCTION, BEHIND_PROXY="1")
    assert alone.stdout.strip() == "None"
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_it_answers_a_branded_500_page():
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "css/herald.css" in page


def test_it_refuses_an_all_digit_password():
    with pytest.raises(ValidationError) as refused:
        validate_password("9483726150938472")
    assert "entirely numeric" in str(refused.value)
