"""Demo data: users, contact lists of realistic contacts, and campaigns in every status.

Idempotent: running it again changes nothing that is already there. `--if-empty` seeds only
a database without campaigns (what `make run` does on its first run).
"""

import random
import time
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns import roles
from campaigns.models import Campaign, Contact, ContactList, normalize_phone
from channels import dispatch
from channels.models import Channel
from channels.providers import Provider, SimulatedProvider, provider_for

FIRST = [
    "Ada",
    "Alan",
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farah",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Marco",
    "Lena",
    "Omar",
    "Ruth",
    "Theo",
    "Iris",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Silva",
    "Haddad",
    "Kowalski",
    "Brennan",
    "Osei",
    "Varga",
    "Castillo",
    "Nakamura",
    "Fischer",
    "Adeyemi",
    "Rossi",
    "Petrov",
    "Gallagher",
    "Mensah",
    "Duarte",
    "Sato",
    "Bianchi",
    "Kaur",
    "Holm",
]
CITIES = ["Boston", "Denver", "Austin", "Seattle", "Chicago", "Atlanta", "Portland"]
ZONES = ["America/New_York", "America/Denver", "America/Chicago", "America/Los_Angeles"]

LISTS = {"Newsletter subscribers": 300, "VIP customers": 120, "Event attendees": 200}

VOICE = {
    "voice_script": "Hi {first_name}, this is Ava from Herald Outfitters. We have an early "
    "access offer for customers in {city}. Would you like to hear about it?",
    "caller_id": "+12025550100",
    "max_per_second": 5,
    "max_concurrent": 10,
}
SMS = {
    "sms_template": "Hi {first_name}! Your Herald member offer: 20% off this week. "
    "Reply STOP to opt out.",
    "sms_sender": "HERALD",
    "max_per_second": 20,
}
EMAIL = {
    "email_subject": "{first_name}, your seasonal preview is here",
    "email_body": "Dear {name},\n\nOur new collection is out, with early access for you.",
    "email_from": "news@herald.example",
    "max_per_second": 50,
}
CONTENT = {Channel.Kind.AI_VOICE: VOICE, Channel.Kind.SMS: SMS, Channel.Kind.EMAIL: EMAIL}
# The running demo channel's pacing: at most one call a second and one at a time (each
# simulated call lasts HERALD_SIMULATOR's voice latency, 2 s by default).
LIVE_PACING = {"max_per_second": 1, "max_concurrent": 1}
# Seconds a demo channel may take to run to the end.
RUN_TIMEOUT = 120.0


def instant_provider(kind: str) -> Provider:
    """The configured provider of `kind`; the simulator without its latency, so the demo
    history is made at once. Passed to the engine explicitly: settings stay as configured."""
    provider = provider_for(kind)
    if isinstance(provider, SimulatedProvider):
        return SimulatedProvider(
            kind, outcome_delay=0.0, error_rate=provider.error_rate, seed=provider.seed
        )
    return provider


class Command(BaseCommand):
    help = "Create demo users, contact lists and campaigns in every status (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Only seed a database with no campaigns."
        )

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and Campaign.objects.exists():
            self.stdout.write("Demo data: the database already has campaigns; nothing to do.")
            return
        roles.ensure_groups()
        manager = self.user("demo", "demo", roles.MANAGERS, superuser=True)
        self.user("viewer", "viewer", roles.VIEWERS)
        lists = {name: self.contact_list(name, size) for name, size in LISTS.items()}
        self.campaigns(manager, lists)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def user(self, username: str, password: str, group: str, *, superuser: bool = False):
        user, created = User.objects.get_or_create(username=username)
        if created:
            if settings.DEBUG:
                user.set_password(password)
            else:
                # A known password on a production server would be a hole.
                user.set_unusable_password()
            user.is_staff = user.is_superuser = superuser
            user.email = f"{username}@herald.example"
            user.save()
            user.groups.add(roles.group(group))
            self.stdout.write(f"User {username} ({group}).")
        return user

    def contact_list(self, name: str, size: int) -> ContactList:
        contact_list, created = ContactList.objects.get_or_create(
            name=name, defaults={"description": f"Demo list of {size} contacts."}
        )
        if not created:
            return contact_list
        rng = random.Random(name)
        contacts = []
        for i in range(size):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            try:
                phone = normalize_phone(f"+1 {rng.choice([202, 312, 415, 617])} 555 {i:04d}")
            except ValidationError:
                phone = ""
            contacts.append(
                Contact(
                    name=f"{first} {last}",
                    phone=phone if rng.random() > 0.04 else "",
                    email=f"{first}.{last}.{i}@example.com".lower(),
                    timezone=rng.choice(ZONES),
                    attributes={"city": rng.choice(CITIES)},
                    opted_out_sms=rng.random() < 0.03,
                    opted_out_voice=rng.random() < 0.03,
                    opted_out_email=rng.random() < 0.02,
                )
            )
        Contact.objects.bulk_create(contacts)
        contact_list.add_contacts([c.pk for c in contacts])
        self.stdout.write(f"Contact list {name}: {size} contacts.")
        return contact_list

    def campaign(self, name: str, contact_list, manager, description: str, kinds):
        campaign, created = Campaign.objects.get_or_create(
            name=name,
            defaults={
                "contact_list": contact_list,
                "created_by": manager,
                "description": description,
            },
        )
        if not created:
            return None
        channels = [
            Channel.objects.create(
                campaign=campaign,
                kind=kind,
                name=f"{Channel.Kind(kind).label} · {name}",
                created_by=manager,
                **CONTENT[kind],
            )
            for kind in kinds
        ]
        self.stdout.write(f"Campaign {name}.")
        return channels

    def run_to_end(self, channel: Channel, manager) -> None:
        with transaction.atomic():
            channel.start(by=manager)
        # History is made at full speed and at any hour (the demo is seeded at whatever time
        # it is), then the channel keeps its real pacing and sending window.
        paced = Channel.objects.filter(pk=channel.pk)
        paced.update(max_per_second=100_000, window_start=None, window_end=None)
        generation = paced.values_list("dispatch_generation", flat=True).get()
        claim = partial(dispatch.claim_batch, channel_id=channel.pk, generation=generation)
        dispatch.run_inline(
            channel, instant_provider(channel.kind), claim, time.monotonic() + RUN_TIMEOUT
        )
        paced.update(
            max_per_second=channel.max_per_second,
            window_start=channel.window_start,
            window_end=channel.window_end,
        )

    def run_partly(self, channel: Channel, manager, contacts: int) -> None:
        with transaction.atomic():
            channel.start(by=manager)
        hours = Channel.objects.filter(pk=channel.pk)
        hours.update(window_start=None, window_end=None)  # as in run_to_end
        generation = hours.values_list("dispatch_generation", flat=True).get()
        claim = dispatch.claim_batch(channel_id=channel.pk, generation=generation, limit=contacts)
        hours.update(window_start=channel.window_start, window_end=channel.window_end)
        provider = instant_provider(channel.kind)
        answers = list(zip(claim.to_send, provider.send_many(claim.to_send), strict=True))
        dispatch.record_answers(channel_id=channel.pk, kind=channel.kind, answers=answers)

    def campaigns(self, manager, lists) -> None:
        voice, sms, email = Channel.Kind.AI_VOICE, Channel.Kind.SMS, Channel.Kind.EMAIL
        subscribers, vips, attendees = lists.values()

        self.campaign(
            "Spring Collection Launch",
            subscribers,
            manager,
            "Draft: three channels configured, none started.",
            [voice, sms, email],
        )

        if channels := self.campaign(
            "Autumn Check-in",
            vips,
            manager,
            "Completed: every channel ran to the end.",
            [voice, sms, email],
        ):
            for channel in channels:
                self.run_to_end(channel, manager)

        if channels := self.campaign(
            "Black Friday Blast",
            subscribers,
            manager,
            "Completed: the SMS ran to the end, the email was stopped half-way.",
            [sms, email],
        ):
            self.run_to_end(channels[0], manager)
            self.run_partly(channels[1], manager, 120)
            channels[1].stop(by=manager)

        if channels := self.campaign(
            "Summer Survey",
            attendees,
            manager,
            "Archived after it completed.",
            [email, sms],
        ):
            for channel in channels:
                self.run_to_end(channel, manager)
            Campaign.objects.get(pk=channels[0].campaign_id).archive(by=manager)

        if channels := self.campaign(
            "Winter Loyalty Drive",
            attendees,
            manager,
            "Active: the calls go out one at a time, so you can watch their progress; "
            "the SMS is paused part-way, the email is ready to go.",
            [voice, sms, email],
        ):
            # Slow enough that someone signing in minutes after `make run` still sees the
            # calls move (README): 200 contacts, one call at a time.
            Channel.objects.filter(pk=channels[0].pk).update(**LIVE_PACING)
            self.run_partly(channels[1], manager, 60)
            channels[1].pause(by=manager)
            with transaction.atomic():
                channels[0].start(by=manager)
