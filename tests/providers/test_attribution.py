"""Attribution from Typeform hidden fields and Checkout Session metadata."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.providers.conftest import VERSIONS, context, stripe_event, typeform_payload
from webhook_bridge.actions import Attribution
from webhook_bridge.mapping_config import MappingConfig, MappingConfigError
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.typeform import map_typeform_event

EVERY_HIDDEN_FIELD = {
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "otoño-2025",
    "utm_content": "hero button",
    "utm_term": "facturación",
    "referrer": "https://blog.example/pricing",
    "optin_url": "https://acme.example/es/onboarding",
    "ip": " 2001:db8::1 ",
}
EVERY_FIELD = Attribution(
    utm_source="newsletter",
    utm_medium="email",
    utm_campaign="otoño-2025",
    utm_content="hero button",
    utm_term="facturación",
    referring_url="https://blog.example/pricing",
    optin_url="https://acme.example/es/onboarding",
    ip_address="2001:db8::1",
)


def form_response(hidden: dict[str, Any]) -> dict[str, Any]:
    payload = typeform_payload("form_response")
    payload["form_response"]["hidden"] = {"user_id": "u_4812", **hidden}
    return payload


def test_every_attribution_hidden_field_fills_its_field_and_is_no_trait() -> None:
    [action] = map_typeform_event(form_response(EVERY_HIDDEN_FIELD), context())
    assert action.person.attribution == EVERY_FIELD
    assert not set(action.person.traits) & {*EVERY_HIDDEN_FIELD, *EVERY_FIELD.known()}
    assert action.person.traits["user_id"] == "u_4812"  # other hidden fields stay traits
    # The other vendors get them as attributes, under the attribution names.
    assert action.person.attributes["referring_url"] == "https://blog.example/pricing"
    assert action.person.attributes["user_id"] == "u_4812"


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        (
            {"referring_url": "https://a.example", "ip_address": "8.8.8.8"},
            {"referring_url": "https://a.example", "ip_address": "8.8.8.8"},
        ),
        ({"ip": "10.0.0.1", "ip_address": "8.8.8.8"}, {"ip_address": "8.8.8.8"}),  # the field's own name wins
        ({"ip_address": "8.8.8.8", "ip": "10.0.0.1"}, {"ip_address": "8.8.8.8"}),
        ({"ip": "not an address", "UTM_Source": "Partner"}, {"utm_source": "Partner"}),  # names ignore case
        ({"utm_source": "", "utm_medium": "   "}, {}),  # blank: nothing, so nothing is blanked
        ({}, {}),
    ],
)
def test_hidden_field_variants(hidden: dict[str, Any], expected: dict[str, str]) -> None:
    [action] = map_typeform_event(form_response(hidden), context())
    assert action.person.attribution.known() == expected


def test_configuration_adds_names_and_turns_defaults_off() -> None:
    ctx = context({"attribution": {"fields": {"source": "utm_source", "ip": None, "Landing": "optin_url"}}})
    [action] = map_typeform_event(
        form_response({"source": "podcast", "ip": "8.8.8.8", "landing": "https://acme.example/lp"}), ctx
    )
    assert action.person.attribution == Attribution(utm_source="podcast", optin_url="https://acme.example/lp")
    assert action.person.traits["ip"] == "8.8.8.8"  # turned off: an ordinary hidden field again


@pytest.mark.parametrize("bad", [{"source": "utm_sauce"}, {"": "utm_source"}, {"source": 3}])
def test_configuration_names_only_known_fields(bad: dict[str, Any]) -> None:
    with pytest.raises(MappingConfigError, match=r"attribution\.fields"):
        MappingConfig.from_json(json.dumps({"attribution": {"fields": bad}}))


@pytest.mark.parametrize("version", VERSIONS)
def test_checkout_session_utm_metadata(version: str) -> None:
    payload = stripe_event(version, "checkout.session.completed")
    payload["data"]["object"]["metadata"] = {
        "campaign": "otoño",  # the fixture's own key: not attribution by default
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "brand",
        "utm_content": "",
        "order_ref": "A-17",
    }
    [action] = map_stripe_event(payload, context())
    assert action.person.attribution == Attribution(utm_source="google", utm_medium="cpc", utm_campaign="brand")
    assert action.person.traits == {}  # other metadata is not mapped


@pytest.mark.parametrize("version", VERSIONS)
def test_checkout_metadata_names_are_configurable(version: str) -> None:
    ctx = context({"attribution": {"fields": {"campaign": "utm_campaign"}}})
    [action] = map_stripe_event(stripe_event(version, "checkout.session.completed"), ctx)
    assert action.person.attribution == Attribution(utm_campaign="otoño")


@pytest.mark.parametrize("version", VERSIONS)
def test_events_without_attribution_carry_none(version: str) -> None:
    ctx = context()
    for event_type in ("customer.created", "checkout.session.completed", "invoice.paid"):
        for action in map_stripe_event(stripe_event(version, event_type), ctx):
            assert action.person.attribution == Attribution()
