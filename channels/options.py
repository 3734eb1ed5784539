"""The engine's settings (HERALD_ENGINE), read at the moment they are used."""

from django.conf import settings


def option(name: str):
    return settings.HERALD_ENGINE[name]
