from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGED_MODELS = {
    "campaigns": ["campaign", "contactlist", "contact", "membership"],
    "channels": ["channel", "audiencemember"],
}
VIEW_ONLY_MODELS = {
    "campaigns": ["activityevent"],
    "channels": ["delivery"],
}
EXTRA_MANAGER_PERMISSIONS = [
    ("channels", "operate_channel"),
    ("campaigns", "archive_campaign"),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations run; make them now so the
    # groups can hold them on a fresh database.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(app_label, codenames):
        return Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )

    managers, _ = Group.objects.get_or_create(name="Campaign managers")
    viewers, _ = Group.objects.get_or_create(name="Viewers")
    for app_label, models in MANAGED_MODELS.items():
        codenames = [f"{verb}_{model}" for model in models for verb in ("add", "change", "delete", "view")]
        managers.permissions.add(*perms(app_label, codenames))
        viewers.permissions.add(*perms(app_label, [f"view_{model}" for model in models]))
    for app_label, models in VIEW_ONLY_MODELS.items():
        codenames = [f"view_{model}" for model in models]
        managers.permissions.add(*perms(app_label, codenames))
        viewers.permissions.add(*perms(app_label, codenames))
    for app_label, codename in EXTRA_MANAGER_PERMISSIONS:
        managers.permissions.add(*perms(app_label, [codename]))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Campaign managers", "Viewers"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_initial"),
        ("channels", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
