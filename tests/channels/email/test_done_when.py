"""The issue's "done when", literally: with HERALD_EMAIL_PROVIDER=smtp and EMAIL_HOST and
EMAIL_PORT pointing at an SMTP server, an email channel delivers every message there with
the unsubscribe headers. A fresh Herald process, configured by nothing but its environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json
import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from channels import dispatch
from channels.models import Channel, Delivery
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory

contacts = [ContactFactory(email=f"reader{n}@example.com") for n in range(12)]
contact_list = ContactListFactory()
contact_list.add_contacts([contact.pk for contact in contacts])
channel = ChannelFactory(
    campaign=CampaignFactory(contact_list=contact_list),
    kind=Channel.Kind.EMAIL,
    email_subject="Hello {first_name}",
)
channel.start()
channel = dispatch.run_until_idle(channel_id=channel.pk, timeout=60)
print(json.dumps({
    "status": channel.status,
    "outcomes": sorted(Delivery.objects.filter(channel=channel).values_list("outcome", flat=True)),
}))
"""


def test_an_email_channel_delivers_every_message_to_the_configured_smtp_server(
    smtp_server, tmp_path
):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "HERALD_", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'herald.sqlite3'}",
        HERALD_EMAIL_PROVIDER="smtp",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        HERALD_PUBLIC_URL="https://herald.example.com",
        HERALD_LOG_LEVEL="WARNING",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {"status": "completed", "outcomes": ["sent"] * 12}

    received = smtp_server.received
    assert sorted(address for message in received for address in message.rcpt_tos) == sorted(
        f"reader{n}@example.com" for n in range(12)
    )
    for message in received:
        assert message.raw_header("List-Unsubscribe").startswith(
            "<https://herald.example.com/unsubscribe/"
        )
        assert message.raw_header("List-Unsubscribe").endswith("?subject=unsubscribe>")
        assert message.raw_header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
