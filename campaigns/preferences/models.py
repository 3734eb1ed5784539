"""A manager's own settings: the time zone their pages show times in (issue #11 point 5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from campaigns.contacts.zones import validate_time_zone


class Preferences(models.Model):
    """Made the first time a person saves theirs; until then, the site's defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    # Blank: the site's TIME_ZONE, so changing that setting moves everyone who chose nothing.
    timezone = models.CharField(
        "time zone", max_length=64, blank=True, validators=[validate_time_zone]
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    @classmethod
    def zone_name_for(cls, user) -> str:
        """The zone `user`'s pages are in: theirs, else TIME_ZONE."""
        chosen = cls.objects.filter(user_id=user.pk).values_list("timezone", flat=True).first()
        return chosen or settings.TIME_ZONE

    @classmethod
    def set_zone(cls, user, name: str) -> Preferences:
        validate_time_zone(name)
        preferences, _ = cls.objects.update_or_create(user=user, defaults={"timezone": name})
        return preferences
