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
    return {"name": "Ann", "phone": "", "timezone": "UTC", "attributes": "{}", **fields}


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
