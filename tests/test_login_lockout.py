"""Repeated failed sign-ins lock out the username and the address (SPEC section 6)."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    user = ManagerFactory(username="ana")
    user.set_password("right-horse-battery")
    user.save()
    return user


def sign_in(client, url, username, password, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", [reverse("login"), reverse("admin:login")])
def test_it_locks_out_a_username_after_five_wrong_passwords(client, user, url, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, url, "ana", "wrong").status_code == 200
    assert sign_in(client, url, "ana", "wrong").status_code == 429  # the fifth locks
    # Even the right password is refused now, from another address too, with a clear page.
    response = sign_in(client, url, "ana", "right-horse-battery", address="10.0.0.2")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_out_an_address_guessing_many_usernames(client, user, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, reverse("login"), f"guess{n}", "wrong", address="10.0.0.9")
    response = sign_in(client, reverse("login"), "ana", "right-horse-battery", address="10.0.0.9")
    assert response.status_code == 429
    # The user can still sign in from elsewhere: the address is locked, not the account.
    assert sign_in(client, reverse("login"), "ana", "right-horse-battery").status_code == 302


def test_a_right_password_before_the_limit_signs_in_and_forgets_the_failures(client, user):
    for _ in range(3):
        sign_in(client, reverse("login"), "ana", "wrong")
    assert sign_in(client, reverse("login"), "ana", "right-horse-battery").status_code == 302
    assert not AccessAttempt.objects.filter(username="ana", failures_since_start__gt=0).exists()


def test_an_administrator_unlocks_a_user(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, reverse("login"), "ana", "wrong")
    assert AccessAttempt.objects.filter(username="ana").exists()
    call_command("axes_reset_username", "ana")
    assert (
        sign_in(client, reverse("login"), "ana", "right-horse-battery", "10.0.0.3").status_code
        == 302
    )
