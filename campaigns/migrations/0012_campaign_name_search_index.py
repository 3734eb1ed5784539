"""The campaign list's name search (campaigns/filters.py, `CampaignFilter.search`) finds its
matches through a trigram index on PostgreSQL instead of reading every campaign's name.

Django's `icontains` is `UPPER(name) LIKE UPPER(%s)`, so the index is on that expression. It
is not in `Campaign.Meta.indexes` because SQLite has neither GIN nor trigrams: there the
search stays a scan, and this migration does nothing.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "campaign_name_search_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON campaigns_campaign "
            "USING gin (UPPER(name) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0011_preferences"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
