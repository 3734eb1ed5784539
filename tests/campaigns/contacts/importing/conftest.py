import pytest

from tests.factories import ContactFactory, ContactListFactory, MembershipFactory


@pytest.fixture
def contact_list():
    """A list the messy file imports into: Hal is in it, Lou is in another list."""
    contact_list = ContactListFactory()
    MembershipFactory(
        contact_list=contact_list, contact=ContactFactory(name="Hal", phone="+12025550199")
    )
    ContactFactory(name="Lou elsewhere", phone="+12025550177", email="")
    return contact_list
