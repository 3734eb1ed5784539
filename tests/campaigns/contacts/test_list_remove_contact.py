"""Removing a contact from a list (the contact stays)."""

import pytest
from django.urls import reverse

from campaigns.models import Contact, Membership
from tests.factories import ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def remove_url(contact_list, contact_pk: int) -> str:
    return reverse("contacts:list_remove_contact", args=[contact_list.pk, contact_pk])


def test_it_removes_a_contact_from_the_list(manager_client):
    membership = MembershipFactory()
    url = remove_url(membership.contact_list, membership.contact.pk)
    assert manager_client.post(url).status_code == 302
    membership.contact_list.refresh_from_db()
    assert membership.contact_list.size == 0
    assert Contact.objects.filter(pk=membership.contact.pk).exists()


def test_it_is_a_no_op_for_a_non_member(manager_client):
    contact_list = ContactListFactory(size=1)
    other = ContactFactory()
    response = manager_client.post(remove_url(contact_list, other.pk), follow=True)
    assert "is not in this list" in response.content.decode()
    contact_list.refresh_from_db()
    assert contact_list.size == 1


def test_it_is_refused_to_a_viewer(viewer_client):
    membership = MembershipFactory()
    url = remove_url(membership.contact_list, membership.contact.pk)
    assert viewer_client.post(url).status_code == 403
    assert Membership.objects.exists()


def test_it_needs_post(manager_client):
    membership = MembershipFactory()
    url = remove_url(membership.contact_list, membership.contact.pk)
    assert manager_client.get(url).status_code == 405
    assert Membership.objects.exists()


def test_it_is_404_for_a_missing_contact(manager_client):
    contact_list = ContactListFactory()
    assert manager_client.post(remove_url(contact_list, 999)).status_code == 404
