"""Contacts stored before SPEC 4b got "UTC" when no time zone was given: the importer and the
contact form defaulted to it, and merging treated it as "none". Make them blank, then derive
every contact's zone key."""

from django.db import migrations

from campaigns.contacts.zones import zone_key_for


def derive_zone_keys(apps, schema_editor):
    Contact = apps.get_model("campaigns", "Contact")
    Contact.objects.filter(timezone="UTC").update(timezone="")
    batch = []
    for contact in Contact.objects.only("pk", "timezone", "phone").iterator(chunk_size=2000):
        contact.zone_key = zone_key_for(timezone=contact.timezone, phone=contact.phone)
        batch.append(contact)
        if len(batch) == 2000:
            Contact.objects.bulk_update(batch, ["zone_key"])
            batch = []
    Contact.objects.bulk_update(batch, ["zone_key"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0007_contact_zone")]

    operations = [migrations.RunPython(derive_zone_keys, migrations.RunPython.noop)]
