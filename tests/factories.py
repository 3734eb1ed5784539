"""Every factory of the suite, in one place."""

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from campaigns import roles
from campaigns.models import Campaign, Contact, ContactList, ImportJob, Membership
from channels.models import Channel, Delivery


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("password")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class SuperuserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class ManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"manager{n}")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create:
            self.groups.add(roles.group(extracted or roles.MANAGERS))


class ViewerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"viewer{n}")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create:
            self.groups.add(roles.group(extracted or roles.VIEWERS))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Contact {n}")
    phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"List {n}")

    @factory.post_generation
    def size(self, create, extracted, **kwargs):
        """`ContactListFactory(size=5)` makes a list with five new contacts."""
        if create and extracted:
            contacts = ContactFactory.create_batch(extracted)
            self.add_contacts([c.pk for c in contacts])


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    contact_list = factory.SubFactory(ContactListFactory)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    campaign = factory.SubFactory(CampaignFactory)
    kind = Channel.Kind.SMS
    name = factory.LazyAttribute(lambda c: f"{Channel.Kind(c.kind).label} {c.campaign.name}")
    voice_script = "Hello {first_name}, this is Herald calling."
    sms_template = "Hi {first_name}, a message from Herald."
    email_subject = "News for {first_name}"
    email_body = "Dear {name}, here is our news."
    max_per_second = 1000
    # Any hour, so a test's outcome never hangs on the hour it runs at; windows are tested
    # with windows of their own (and the kinds' defaults, in test_default_windows.py).
    window_start = None
    window_end = None


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    channel = factory.SubFactory(ChannelFactory)
    contact = factory.SubFactory(ContactFactory)
    state = Delivery.State.DONE
    outcome = "delivered"


def put_channel_in(channel: Channel, status: str, **fields) -> Channel:
    """Test set-up only: force a channel into `status` with the timestamps that status implies.

    Real code changes a status through the transition methods; a test that needs a channel
    in a given state to try an action on it goes around them here, and nowhere else.
    """
    now = timezone.now()
    implied = {
        Channel.Status.READY: {},
        Channel.Status.RUNNING: {"started_at": now},
        Channel.Status.PAUSED: {"started_at": now, "paused_at": now},
        Channel.Status.COMPLETED: {"started_at": now, "finished_at": now},
        Channel.Status.STOPPED: {"started_at": now, "finished_at": now},
    }[status]
    Channel.objects.filter(pk=channel.pk).update(status=status, **{**implied, **fields})
    channel.refresh_from_db()
    return channel


def build_ledger(channel: Channel, rows: list[tuple], *, at=None) -> list[Delivery]:
    """Test set-up: one delivery per row to a new contact of the campaign's list.

    A row is (state, outcome) or (state, outcome, converted). The channel's counters are
    then set from the ledger, as the engine keeps them (channels.dispatch.recount).
    """
    from channels import dispatch

    at = at or timezone.now()
    contacts = ContactFactory.create_batch(len(rows))
    channel.campaign.contact_list.add_contacts([c.pk for c in contacts])
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            channel=channel,
            contact=contact,
            state=row[0],
            outcome=row[1],
            converted=row[2] if len(row) > 2 else False,
            converted_at=at if len(row) > 2 and row[2] else None,
            created_at=at,
            finished_at=None if row[0] == Delivery.State.SENDING else at,
        )
        for contact, row in zip(contacts, rows, strict=True)
    )
    dispatch.recount(channel_id=channel.pk)
    channel.refresh_from_db()
    return deliveries


class MembershipFactory(factory.django.DjangoModelFactory):
    """A contact in a list; goes through `add_contacts` so the list's size stays right."""

    class Meta:
        model = Membership

    contact_list = factory.SubFactory(ContactListFactory)
    contact = factory.SubFactory(ContactFactory)

    @classmethod
    def _create(cls, model_class, contact_list, contact, **kwargs):
        contact_list.add_contacts([contact.pk])
        return model_class.objects.get(contact_list=contact_list, contact=contact)


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    contact_list = factory.SubFactory(ContactListFactory)
    file = factory.django.FileField(filename="contacts.csv", data=b"name,phone\nAnn,2025550101\n")
    original_name = "contacts.csv"
    default_region = "US"
