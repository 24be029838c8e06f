"""BRIDGE_MAPPING: renaming, disabling, extending and routing, and clear errors for mistakes."""

from __future__ import annotations

import json

import pytest

from tests.providers.conftest import CURRENT, EMAIL, STORIES, Story, context, stripe_event, typeform_payload
from webhook_bridge.actions import ActionKind, Memberships, Person, TrackEvent
from webhook_bridge.mapping_config import STRIPE_DEFAULT_EVENTS, MappingConfig, MappingConfigError, MappingContext
from webhook_bridge.providers.stripe.handlers import HANDLERS
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.typeform import map_typeform_event
from webhook_bridge.routing import route
from webhook_bridge.settings import ReceiverSettings
from webhook_bridge.state import DynamoIdentityStore, DynamoInvoiceMemory
from webhook_bridge.vendors.catalog import Vendor, vendors


def joined(person: Person, vendor: str) -> tuple[str, ...]:
    return person.memberships_at([vendor]).join


def left(person: Person, vendor: str) -> tuple[str, ...]:
    return person.memberships_at([vendor]).leave


@pytest.mark.parametrize("text", [None, "", "  ", "{}"])
def test_empty_configuration_is_the_default_table(text: str | None) -> None:
    config = MappingConfig.from_json(text)
    assert config == MappingConfig()
    assert {t: config.stripe.event_name(t) for t in STRIPE_DEFAULT_EVENTS} == STRIPE_DEFAULT_EVENTS


def test_every_default_type_has_a_handler() -> None:
    assert set(STRIPE_DEFAULT_EVENTS) <= set(HANDLERS)


def test_rename_a_track_event(story: Story) -> None:
    ctx = context({"stripe": {"events": {"invoice.paid": {"event_name": "payment_received"}}}})
    [action, _record] = map_stripe_event(stripe_event(story.version, "invoice.paid"), ctx)
    assert action.event is not None
    assert action.event.name == "payment_received"
    assert action.kind is ActionKind.INVOICE


def test_disable_an_event_type(story: Story) -> None:
    ctx = context({"stripe": {"events": {"invoice.payment_failed": {"enabled": False}}}})
    assert map_stripe_event(stripe_event(story.version, "invoice.payment_failed"), ctx) == []


def test_extra_properties_from_the_object(story: Story) -> None:
    config = {"invoice.paid": {"properties": {"number": "number", "first_line": "lines.data.0.id", "nope": "x.y"}}}
    ctx = context({"stripe": {"events": config}})
    payload = stripe_event(story.version, "invoice.paid")
    [action, _record] = map_stripe_event(payload, ctx)
    assert action.event is not None
    assert action.event.properties == {
        "invoice_id": payload["data"]["object"]["id"],
        "amount_paid": 8906,
        "currency": "eur",
        "number": "6D0B7C2A-0002",
        "first_line": payload["data"]["object"]["lines"]["data"][0]["id"],
    }


def test_an_identify_only_type_with_an_event_name_becomes_a_track(story: Story) -> None:
    ctx = context({"stripe": {"events": {"customer.created": {"event_name": "signed_up"}}}})
    [action] = map_stripe_event(stripe_event(story.version, "customer.created"), ctx)
    assert (action.kind, action.identify, action.event) == (ActionKind.TRACK, True, TrackEvent(name="signed_up"))


def test_extend_with_a_type_outside_the_table() -> None:
    ctx = context(
        {
            "stripe": {
                "events": {
                    "invoice_payment.paid": {
                        "event_name": "payment_settled",
                        "properties": {"amount": "amount_paid", "invoice": "invoice"},
                    }
                }
            }
        }
    )
    payload = stripe_event(CURRENT, "invoice_payment.paid")
    obj = payload["data"]["object"]
    # The object names no customer and its invoice is not known yet: nobody to send it for.
    assert map_stripe_event(payload, ctx) == []
    # The link for refunds is still learnt.
    assert ctx.invoices.by_payment_intent(obj["payment"]["payment_intent"]) is None  # invoice itself not paid yet
    map_stripe_event(stripe_event(CURRENT, "invoice.paid"), ctx)
    assert ctx.invoices.by_payment_intent(obj["payment"]["payment_intent"]) is not None
    # Once the invoice is known, its person stands in.
    [action] = map_stripe_event(payload, ctx)
    assert action.kind is ActionKind.TRACK
    assert action.person == Person(email=EMAIL, stripe_customer_id=STORIES[CURRENT].customer)
    assert action.event == TrackEvent(
        name="payment_settled", properties={"object_id": obj["id"], "amount": 8906, "invoice": obj["invoice"]}
    )


def test_extension_resolves_the_person_like_the_table_does(story: Story) -> None:
    ctx = context({"stripe": {"events": {"customer.discount.created": {"event_name": "coupon_applied"}}}})
    map_stripe_event(stripe_event(story.version, "customer.created"), ctx)
    payload = stripe_event(story.version, "customer.created")
    payload.update(type="customer.discount.created")
    payload["data"]["object"] = {
        "id": "di_1",
        "object": "discount",
        "customer": {"id": payload["data"]["object"]["id"]},
    }
    [action] = map_stripe_event(payload, ctx)
    assert action.person.email == EMAIL
    assert action.event == TrackEvent(name="coupon_applied", properties={"object_id": "di_1"})


def test_vendors_restrict_routing(story: Story) -> None:
    config = {"stripe": {"events": {"invoice.paid": {"vendors": ["segmetrics", "loops"]}}}}
    ctx = context(config)
    [paid, record] = map_stripe_event(stripe_event(story.version, "invoice.paid"), ctx)
    [failed] = map_stripe_event(stripe_event(story.version, "invoice.payment_failed"), ctx)
    assert ctx.vendors_for(paid) == ctx.vendors_for(record) == {Vendor("segmetrics"), Vendor("loops")}
    assert ctx.vendors_for(failed) is None
    assert route(paid, vendors(), ctx.vendors_for(paid)) == [Vendor("loops"), Vendor("segmetrics")]
    assert route(record, vendors(), ctx.vendors_for(record)) == [Vendor("segmetrics")]  # the one keeping invoices


def test_typeform_per_form_configuration() -> None:
    config = {
        "typeform": {
            "default": {
                "fields": {"user_id": "app_user_id"},
                "segmetrics_tags": ["Typeform lead"],
                "hidden_email": True,
            },
            "forms": {
                "Vq2mXo9L": {
                    "event_name": "onboarding_completed",
                    "fields": {"full_name": "first_name", "team_size": "company_size"},
                    "convertloop_segments": ["Onboarded", "Typeform lead"],
                    "vendors": ["convertloop", "segmetrics"],
                }
            },
        }
    }
    ctx = context(config)
    [action] = map_typeform_event(typeform_payload("form_response"), ctx)
    assert action.event is not None and action.event.name == "onboarding_completed"
    assert action.person.first_name == "Zoë Ñúñez"  # the whole answer: configuration chose the attribute
    assert "full_name" not in action.person.traits
    assert action.person.traits["company_size"] == 12
    assert action.person.traits["app_user_id"] == "u_4812"  # default fields merge with the form's
    # ConvertLoop segments and SegMetrics tags stay apart, each for its own vendors.
    assert joined(action.person, "convertloop") == ("Onboarded", "Typeform lead")
    assert joined(action.person, "segmetrics") == ("Typeform lead",)  # the default's, the form set none
    assert ctx.vendors_for(action) == {Vendor("convertloop"), Vendor("segmetrics")}

    [other] = map_typeform_event(typeform_payload("form_response_hidden_email"), ctx)
    assert other.event is not None and other.event.name == "form_submitted"
    assert (joined(other.person, "convertloop"), joined(other.person, "segmetrics")) == ((), ("Typeform lead",))
    assert ctx.vendors_for(other) is None


@pytest.mark.parametrize(
    ("form", "segments", "tags"),
    [
        ({"convertloop_segments": ["Onboarded"]}, ("Onboarded",), ()),
        ({"segmetrics_tags": ["Lead", "Lead", "ES"]}, (), ("Lead", "ES")),
        ({"convertloop_segments": ["A", "B", "A"], "segmetrics_tags": ["B"]}, ("A", "B"), ("B",)),
        ({}, (), ()),
    ],
)
def test_typeform_segments_and_tags_never_mix(
    form: dict[str, object], segments: tuple[str, ...], tags: tuple[str, ...]
) -> None:
    ctx = context({"typeform": {"forms": {"Vq2mXo9L": form}}})
    [action] = map_typeform_event(typeform_payload("form_response"), ctx)
    assert (joined(action.person, "convertloop"), joined(action.person, "segmetrics")) == (segments, tags)
    assert (left(action.person, "convertloop"), left(action.person, "segmetrics")) == ((), ())


def test_a_form_overriding_tags_keeps_the_default_segments() -> None:
    config = {
        "typeform": {
            "default": {"convertloop_segments": ["Leads"], "segmetrics_tags": ["Typeform"]},
            "forms": {"Vq2mXo9L": {"segmetrics_tags": ["Onboarding"]}},
        }
    }
    [action] = map_typeform_event(typeform_payload("form_response"), context(config))
    assert (joined(action.person, "convertloop"), joined(action.person, "segmetrics")) == (("Leads",), ("Onboarding",))


def test_memberships_by_vendor_are_the_lists_keys_of_each_vendor() -> None:
    spelled_by_vendor = {"memberships": {"convertloop": ["Onboarded", "Onboarded"], "segmetrics": ["Lead"]}}
    spelled_by_lists = {"convertloop_segments": ["Onboarded"], "segmetrics_tags": ["Lead"]}
    mixed = {"convertloop_segments": ["Onboarded"], "memberships": {"segmetrics": ["Lead"]}}
    people = [
        map_typeform_event(typeform_payload("form_response"), context({"typeform": {"default": form}}))[0].person
        for form in (spelled_by_vendor, spelled_by_lists, mixed)
    ]
    assert people[0].memberships == {
        "convertloop": Memberships(join=("Onboarded",)),
        "segmetrics": Memberships(join=("Lead",)),
    }
    assert people[1] == people[0] and people[2] == people[0]


def test_typeform_form_can_be_disabled() -> None:
    ctx = context({"typeform": {"forms": {"Lw8pQz3R": {"enabled": False}}}})
    assert map_typeform_event(typeform_payload("form_response_hidden_email"), ctx) == []
    assert len(map_typeform_event(typeform_payload("form_response"), ctx)) == 1


@pytest.mark.parametrize(
    ("config", "mentions"),
    [
        ({"stripe": {"events": {"invoice.paid": {"vendors": ["mailchimp"]}}}}, "stripe.events.invoice.paid.vendors"),
        ({"stripe": {"events": {"invoice.paid": {"event_nme": "x"}}}}, "event_nme"),
        ({"stripe": {"events": {"payment_intent.succeeded": {}}}}, "payment_intent.succeeded"),
        ({"stripe": {"events": {"Invoice Paid": {}}}}, "Invoice Paid"),
        ({"stripe": {"events": {"invoice.paid": {"event_name": "  "}}}}, "event_name"),
        ({"stripe": {"events": {"invoice.paid": {"properties": {"x": "lines[0]"}}}}}, "properties"),
        ({"typeform": {"forms": {"abc": {"fields": {"ref": ""}}}}}, "typeform.forms.abc.fields.ref"),
        ({"hubspot": {}}, "hubspot"),
        ({"typeform": {"default": {"memberships": {"loops": ["A"]}}}}, "Loops keeps no lists"),
        ({"typeform": {"default": {"memberships": {"mailchimp": ["A"]}}}}, "typeform.default.memberships.mailchimp"),
        ({"typeform": {"default": {"memberships": {"convertloop": [" "]}}}}, "memberships.convertloop.0"),
        (
            {"typeform": {"forms": {"abc": {"convertloop_segments": ["A"], "memberships": {"convertloop": ["B"]}}}}},
            "convertloop_segments and memberships.convertloop name the same lists",
        ),
        ({"typeform": {"default": {"loops_segments": ["A"]}}}, "loops_segments"),
    ],
)
def test_mistakes_are_refused_with_their_location(config: dict[str, object], mentions: str) -> None:
    with pytest.raises(MappingConfigError, match="BRIDGE_MAPPING is invalid") as error:
        MappingConfig.from_json(json.dumps(config))
    assert mentions in str(error.value)


def test_invalid_json_is_refused() -> None:
    with pytest.raises(MappingConfigError, match="Invalid JSON"):
        MappingConfig.from_json('{"stripe": ')


def test_context_from_receiver_settings_uses_the_state_table() -> None:
    settings = ReceiverSettings(
        IDEMPOTENCY_TABLE="idem",
        STATE_TABLE="state-table",
        BRIDGE_MAPPING='{"stripe": {"events": {"customer.updated": {"enabled": false}}}}',
    )  # type: ignore[call-arg]
    ctx = MappingContext.from_settings(settings)
    assert not ctx.config.stripe.is_mapped("customer.updated")
    assert isinstance(ctx.identities, DynamoIdentityStore)
    assert isinstance(ctx.invoices, DynamoInvoiceMemory)
    assert ctx.identities.table_name == ctx.invoices.table_name == "state-table"


def test_unknown_vendor_names_are_refused_not_dropped() -> None:
    with pytest.raises(MappingConfigError, match=r"typeform\.default\.vendors"):
        MappingConfig.from_json('{"typeform": {"default": {"vendors": ["convertloop", "sendgrid"]}}}')
