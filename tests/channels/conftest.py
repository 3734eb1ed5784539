import pytest


@pytest.fixture
def accepting(fast_engine, use_provider):
    """Every kind's provider accepts at once; outcomes come later, as events."""
    use_provider("tests.providers.AcceptingProvider")
