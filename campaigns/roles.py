"""The two roles of SPEC section 6 as groups, and the permissions each holds."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

MANAGERS = "Campaign managers"
VIEWERS = "Viewers"

MANAGED_MODELS = {
    "campaigns": ["campaign", "contactlist", "contact", "membership"],
    "channels": ["channel", "audiencemember"],
}
VIEW_ONLY_MODELS = {
    "campaigns": ["activityevent"],
    "channels": ["delivery"],
}
EXTRA_MANAGER_PERMISSIONS = {
    "channels": ["operate_channel"],
    "campaigns": ["archive_campaign"],
}


def ensure_groups(apps=global_apps) -> None:
    """Create (or complete) both groups; `apps` is the migration's registry when migrating."""
    # Permissions are normally created after all migrations have run; make them now so the
    # groups can hold them on a fresh database.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(app_label: str, codenames: list[str]):
        return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)

    managers, _ = Group.objects.get_or_create(name=MANAGERS)
    viewers, _ = Group.objects.get_or_create(name=VIEWERS)
    for app_label, models in MANAGED_MODELS.items():
        verbs = ("add", "change", "delete", "view")
        managers.permissions.add(*perms(app_label, [f"{v}_{m}" for m in models for v in verbs]))
        viewers.permissions.add(*perms(app_label, [f"view_{m}" for m in models]))
    for app_label, models in VIEW_ONLY_MODELS.items():
        codenames = [f"view_{m}" for m in models]
        managers.permissions.add(*perms(app_label, codenames))
        viewers.permissions.add(*perms(app_label, codenames))
    for app_label, codenames in EXTRA_MANAGER_PERMISSIONS.items():
        managers.permissions.add(*perms(app_label, codenames))


def group(name: str):
    """The role's group, (re)created if a flush or a fresh database lost it."""
    Group = global_apps.get_model("auth", "Group")
    if not Group.objects.filter(name=name).exists():
        ensure_groups()
    return Group.objects.get(name=name)
