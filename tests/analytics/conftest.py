import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    """The progress series caches closed buckets; tests rebuild ledgers under reused ids."""
    cache.clear()
    yield
    cache.clear()
