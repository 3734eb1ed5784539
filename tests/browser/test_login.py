import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_signs_in_and_lands_on_campaigns(page, live_server, sign_in, manager, screenshot):
    sign_in(manager)
    assert page.get_by_role("heading", name="Campaigns").is_visible()
    screenshot("login-landing")


def test_it_refuses_a_wrong_password(page, live_server, manager):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    assert "/accounts/login/" in page.url
