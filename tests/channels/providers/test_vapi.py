"""The vapi provider against a local server that answers as Vapi's API does."""

import json
import time

import pytest
from werkzeug import Response

from channels import dispatch
from channels.models import Channel, Delivery
from channels.providers import Accepted, Outgoing, ProviderError, RateLimited, provider_for
from channels.providers.vapi import VapiProvider
from tests.channels.fake_vapi import SECRET, use_fake_vapi
from tests.factories import CampaignFactory, ChannelFactory, ContactFactory, ContactListFactory


@pytest.fixture
def vapi_settings(httpserver, settings, use_provider):
    use_fake_vapi(httpserver, settings, use_provider)
    httpserver.clear_all_handlers()  # each test answers its own way
    return settings


def outgoing(**content) -> Outgoing:
    return Outgoing(
        delivery_id=41,
        channel_id=7,
        contact_id=9,
        kind="ai_voice",
        to="+12025550143",
        content={"script": "Hello Ada", "caller_id": "", "name": "Ada Lovelace", **content},
    )


def test_it_places_a_call_and_answers_accepted_with_the_call_id(httpserver, vapi_settings):
    httpserver.expect_request(
        "/call", method="POST", headers={"Authorization": "Bearer vapi-private-key"}
    ).respond_with_json({"id": "019a-call-1", "status": "queued"}, status=201)

    answer = VapiProvider().send(outgoing(first_name="Ada", city="London"))

    assert answer == Accepted(provider_id="019a-call-1")
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer vapi-private-key"
    assert request.get_json() == {
        "assistantId": "asst-herald",
        "phoneNumberId": "pn-outbound",
        "customer": {"number": "+12025550143", "name": "Ada Lovelace"},
        "assistantOverrides": {
            "variableValues": {
                "script": "Hello Ada",
                "name": "Ada Lovelace",
                "first_name": "Ada",
                "city": "London",
            },
            "server": {"url": "http://127.0.0.1:8000/webhooks/vapi/", "secret": SECRET},
        },
        "metadata": {"delivery_id": 41},
    }


def test_it_fails_with_vapis_words_on_a_400(httpserver, vapi_settings):
    httpserver.expect_request("/call", method="POST").respond_with_json(
        {
            "message": ["customer.number must be a valid phone number in the E.164 format"],
            "error": "Bad Request",
            "statusCode": 400,
        },
        status=400,
    )
    with pytest.raises(ProviderError, match="HTTP 400: customer.number must be a valid") as exc:
        VapiProvider().send(outgoing())
    assert not isinstance(exc.value, RateLimited)


def test_it_raises_rate_limited_on_a_429(httpserver, vapi_settings):
    httpserver.expect_request("/call", method="POST").respond_with_json(
        {"message": "Too Many Requests", "statusCode": 429}, status=429
    )
    with pytest.raises(RateLimited, match="HTTP 429: Too Many Requests"):
        VapiProvider().send(outgoing())


def test_it_fails_on_a_500(httpserver, vapi_settings):
    httpserver.expect_request("/call", method="POST").respond_with_data(
        "upstream exploded", status=500
    )
    with pytest.raises(ProviderError, match="HTTP 500: upstream exploded") as exc:
        VapiProvider().send(outgoing())
    assert not isinstance(exc.value, RateLimited)


def test_it_fails_when_vapi_does_not_answer_in_time(httpserver, vapi_settings):
    vapi_settings.VAPI_TIMEOUT = 0.2

    def hang(request):
        time.sleep(0.6)
        return Response(json.dumps({"id": "too-late"}), status=201)

    httpserver.expect_request("/call", method="POST").respond_with_handler(hang)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="did not answer within 0.2 s"):
        VapiProvider().send(outgoing())
    assert time.monotonic() - started < 0.5


def test_it_fails_when_the_answer_has_no_call_id(httpserver, vapi_settings):
    httpserver.expect_request("/call", method="POST").respond_with_json({}, status=201)
    with pytest.raises(ProviderError, match="without a call id"):
        VapiProvider().send(outgoing())


def test_it_says_which_settings_are_missing(settings):
    settings.VAPI_API_KEY = ""
    settings.VAPI_WEBHOOK_SECRET = ""
    settings.VAPI_ASSISTANT_ID = "asst"
    settings.VAPI_PHONE_NUMBER_ID = "pn"
    assert VapiProvider().missing_settings() == ["VAPI_API_KEY", "VAPI_WEBHOOK_SECRET"]


def test_it_is_the_provider_named_vapi(vapi_settings):
    provider = provider_for("ai_voice")
    assert isinstance(provider, VapiProvider)
    assert provider.latency > 0
    assert provider.webhook_urls == ("webhooks:vapi",)


@pytest.mark.django_db
def test_a_refused_call_fails_its_delivery_and_is_never_placed_again(
    httpserver, vapi_settings, fast_engine
):
    httpserver.expect_request("/call", method="POST").respond_with_data("overloaded", status=503)
    contact_list = ContactListFactory()
    contact_list.add_contacts([ContactFactory(name="Ada Lovelace").pk])
    channel = ChannelFactory(
        campaign=CampaignFactory(contact_list=contact_list), kind=Channel.Kind.AI_VOICE
    )
    channel.start()

    channel = dispatch.run_until_idle(channel_id=channel.pk, timeout=3)
    dispatch.run_until_idle(channel_id=channel.pk, timeout=0.5)

    delivery = Delivery.objects.get(channel=channel)
    assert delivery.state == Delivery.State.FAILED
    assert delivery.error.endswith("Vapi refused the call: HTTP 503: overloaded")
    # Only this test's calls: a request another test left hanging may be logged late.
    calls = [request for request, _ in httpserver.log if request.path == "/call"]
    assert len(calls) == 1
    assert channel.status == Channel.Status.COMPLETED
    assert calls[0].get_json()["customer"]["name"] == "Ada Lovelace"
