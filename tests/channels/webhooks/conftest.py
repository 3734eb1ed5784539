"""The fake Twilio API for these tests."""

from tests.channels.fake_twilio import twilio_api  # noqa: F401
