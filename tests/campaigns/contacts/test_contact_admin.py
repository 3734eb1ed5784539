"""The admin's contact form goes through Contact.clean like every other way in."""

import pytest
from django.urls import reverse

from campaigns.models import Contact
from tests.factories import ContactFactory, SuperuserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(SuperuserFactory())
    return client


def form(**fields) -> dict:
    # The consent history inline is read-only: an empty management form.
    inline = {"consent_changes-TOTAL_FORMS": "0", "consent_changes-INITIAL_FORMS": "0"}
    return {"name": "Ann", "phone": "", "timezone": "UTC", "attributes": "{}", **inline, **fields}


def test_it_lower_cases_the_email_of_a_new_contact(admin_client):
    response = admin_client.post(
        reverse("admin:campaigns_contact_add"), form(email="Ann@Example.COM")
    )
    assert response.status_code == 302
    assert Contact.objects.get().email == "ann@example.com"


def test_it_lower_cases_an_edited_email(admin_client):
    contact = ContactFactory(email="ann@example.com")
    response = admin_client.post(
        reverse("admin:campaigns_contact_change", args=[contact.pk]),
        form(email="ANN.LEE@Example.com"),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email == "ann.lee@example.com"


def test_it_shows_opt_outs_read_only_so_they_change_only_with_a_history_row(admin_client):
    contact = ContactFactory(email="ann@example.com")
    response = admin_client.post(
        reverse("admin:campaigns_contact_change", args=[contact.pk]),
        form(email="ann@example.com", opted_out_sms="on"),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.opted_out_sms is False
    assert not contact.consent_changes.exists()
