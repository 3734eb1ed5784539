"""config.settings reads booleans strictly: a typo refuses to start instead of reading False."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import env_bool

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("value", ["1", "true", "True", " YES ", "on"])
def test_it_reads_the_true_words(monkeypatch, value):
    monkeypatch.setenv("HERALD_TEST_FLAG", value)
    assert env_bool("HERALD_TEST_FLAG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", " no ", "off", ""])
def test_it_reads_the_false_words(monkeypatch, value):
    monkeypatch.setenv("HERALD_TEST_FLAG", value)
    assert env_bool("HERALD_TEST_FLAG", True) is False


def test_it_uses_the_default_when_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv("HERALD_TEST_FLAG", raising=False)
    assert env_bool("HERALD_TEST_FLAG", True) is True
    assert env_bool("HERALD_TEST_FLAG", False) is False


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y"])
def test_it_refuses_an_unknown_value_naming_the_variable_and_the_words(monkeypatch, value):
    monkeypatch.setenv("HERALD_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_bool("HERALD_TEST_FLAG", True)
    message = str(refused.value)
    assert f"HERALD_TEST_FLAG={value!r}" in message
    assert "1, true, yes, on" in message and "0, false, no, off" in message


def test_it_refuses_to_start_on_a_misspelt_secure_cookies():
    env = {**os.environ, "SECURE_COOKIES": "ture"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECURE_COOKIES='ture' is not a boolean" in result.stderr
