import os
from collections.abc import Callable

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import settings as hypothesis_settings

from tests.factories import ManagerFactory, ViewerFactory

# Hypothesis: a quick run on a laptop, a deeper search in CI (.ci/run sets CI).
hypothesis_settings.register_profile("local", max_examples=50)
hypothesis_settings.register_profile("ci", max_examples=200)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "local")

#: The header htmx sends with each request it makes: `request.htmx` is true.
HTMX = {"HX-Request": "true"}


def url_for(name: str) -> Callable[..., str]:
    """`url = url_for("channels:pause")`, then `url(channel)`: the route's URL, model
    instances given by primary key."""

    def url(*args) -> str:
        return reverse(name, args=[getattr(arg, "pk", arg) for arg in args])

    return url


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` (and the worker tests) run only on the PostgreSQL leg."""
    on_postgres = connection.vendor == "postgresql"
    skip = pytest.mark.skip(reason="needs PostgreSQL (the PostgreSQL leg of make test runs it)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2 costs most of a second per user made; tests check roles, not hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def manager(db):
    return ManagerFactory()


@pytest.fixture
def viewer(db):
    return ViewerFactory()


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def fast_engine(settings):
    """A zero-latency, error-free simulator, so engine tests run in milliseconds."""
    from channels.providers import reset_providers

    settings.HERALD_SIMULATOR = {**settings.HERALD_SIMULATOR, "latency": {}, "error_rate": 0.0}
    settings.HERALD_ENGINE = {**settings.HERALD_ENGINE, "slice_seconds": 0.2}
    reset_providers()
    yield settings
    reset_providers()


@pytest.fixture
def use_provider(settings):
    """`use_provider("tests.providers.FlakyProvider")` for every kind."""
    from channels.providers import reset_providers

    def use(path: str) -> None:
        settings.HERALD_PROVIDERS = {kind: path for kind in ("ai_voice", "sms", "email")}
        reset_providers()

    yield use
    reset_providers()
