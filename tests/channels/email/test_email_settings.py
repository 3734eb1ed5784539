"""Email settings from the environment: the SMTP mailer, anymail's, the unsubscribe mailto."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHOW = (
    "import json, config.settings as s; print(json.dumps({'mailers': s.MAILERS, "
    "'anymail': s.ANYMAIL, 'mailto': s.HERALD_UNSUBSCRIBE_MAILTO, "
    "'from': s.DEFAULT_FROM_EMAIL}))"
)


def settings_with(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "ANYMAIL_"))}
    clean.pop("HERALD_ANYMAIL_BACKEND", None)
    clean.pop("HERALD_UNSUBSCRIBE_MAILTO", None)
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_smtp_mailer_reads_djangos_email_variables():
    shown = settings_with(
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="herald",
        EMAIL_HOST_PASSWORD="secret",
        EMAIL_USE_TLS="true",
        EMAIL_TIMEOUT="12",
        DEFAULT_FROM_EMAIL="News <news@example.com>",
        HERALD_PUBLIC_URL="https://herald.example.com:8443/",
    )
    smtp = shown["mailers"]["smtp"]
    assert smtp["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert smtp["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 2525,
        "username": "herald",
        "password": "secret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 12.0,
    }
    assert "anymail" not in shown["mailers"]
    assert shown["from"] == "News <news@example.com>"
    assert shown["mailto"] == "unsubscribe@herald.example.com"


def test_every_anymail_variable_becomes_a_key_of_the_anymail_setting():
    shown = settings_with(
        HERALD_ANYMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL_POSTMARK_SERVER_TOKEN="server-token",
        ANYMAIL_WEBHOOK_SECRET="herald:hook-secret",
        ANYMAIL_IGNORE_RECIPIENT_STATUS="false",
        HERALD_UNSUBSCRIBE_MAILTO="leave@example.com",
    )
    assert shown["mailers"]["anymail"] == {"BACKEND": "anymail.backends.postmark.EmailBackend"}
    assert shown["anymail"] == {
        "POSTMARK_SERVER_TOKEN": "server-token",
        "WEBHOOK_SECRET": "herald:hook-secret",
        "IGNORE_RECIPIENT_STATUS": False,
    }
    assert shown["mailto"] == "leave@example.com"


def test_tls_and_ssl_together_refuse_to_start():
    env = {**os.environ, "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Set at most one of EMAIL_USE_TLS and EMAIL_USE_SSL" in result.stderr
