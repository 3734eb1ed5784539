"""Rows that are contacts of other lists (SPEC section 1): never renamed silently."""

import io

import pytest

from campaigns.contacts.importing import import_csv
from campaigns.models import Contact, Membership
from tests.factories import ContactFactory, ContactListFactory, MembershipFactory

pytestmark = pytest.mark.django_db

FILE = (
    "name,phone,email,city\n"
    "Chloé Dubois,+33612345678,chloe@example.fr,Lyon\n"
    "Ana Lima,+33699999999,ana@example.com,Nice\n"
    "Hugo Tanaka,,hugo@example.jp,Osaka\n"
)


@pytest.fixture
def hugo():
    """Hugo, in another list, with the phone Chloé's row has."""
    hugo = ContactFactory(
        name="Hugo Tanaka",
        phone="+33612345678",
        email="hugo@example.jp",
        attributes={"city": "Osaka"},
    )
    MembershipFactory(contact_list=ContactListFactory(name="Other"), contact=hugo)
    return hugo


def run(contact_list, text=FILE, **options):
    source = io.BytesIO(text.encode())
    return import_csv(contact_list=contact_list, source=source, default_region="FR", **options)


def test_it_reports_a_row_matching_another_lists_contact_with_both_names(hugo):
    contact_list = ContactListFactory(name="New")
    result = run(contact_list)
    # Chloé's row is Hugo (same phone): counted and reported as matched, not imported.
    assert (result.imported, result.merged, result.matched) == (1, 1, 1)
    [match] = result.matches
    assert match.row == 2
    assert "matched an existing contact" in match.reason
    assert "“Hugo Tanaka”" in match.reason and "“Chloé Dubois”" in match.reason
    hugo.refresh_from_db()
    assert (hugo.name, hugo.email, hugo.attributes) == (
        "Hugo Tanaka",
        "hugo@example.jp",
        {"city": "Osaka"},
    )
    assert Membership.objects.filter(contact_list=contact_list).count() == 2
    contact_list.refresh_from_db()
    assert contact_list.size == 2


def test_it_replaces_the_stored_fields_when_asked_to(hugo):
    contact_list = ContactListFactory(name="New")
    # Without Hugo's own row, which would then match (and update) him again.
    result = run(contact_list, FILE.rsplit("Hugo", 1)[0], update_existing=True)
    assert result.matched == 1
    assert "updated from this row" in result.matches[0].reason
    hugo.refresh_from_db()
    assert (hugo.name, hugo.phone, hugo.email, hugo.attributes["city"]) == (
        "Chloé Dubois",
        "+33612345678",
        "chloe@example.fr",
        "Lyon",
    )
    assert Contact.objects.count() == 2


def test_it_reports_nothing_for_a_row_that_says_what_is_stored():
    ContactFactory(name="Ana Lima", phone="+33699999999", email="ANA@example.com")
    result = run(ContactListFactory())
    assert result.matched == 0
    assert (result.imported, result.merged) == (3, 0)


@pytest.mark.parametrize("update_existing", [False, True])
def test_a_contact_never_grows_past_the_attribute_cap(settings, update_existing):
    settings.HERALD_MAX_ATTRIBUTES = 3
    stored = ContactFactory(
        name="Léa", phone="+33612345678", email="", attributes={"a": "1", "b": "2"}
    )
    text = "name,phone,b,c,d\nLéa Martin,+33612345678,two,3,4\n"
    run(ContactListFactory(), text, update_existing=update_existing)
    stored.refresh_from_db()
    expected = {"a": "1", "b": "two" if update_existing else "2", "c": "3"}
    assert stored.attributes == expected
