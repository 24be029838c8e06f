"""Filling in a person's email at delivery time from what an earlier Stripe event told us."""

from __future__ import annotations

from tests.conftest import STATE_TABLE, FakeAws
from tests.delivery.test_processor import make_message
from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.identity import identity_resolver
from webhook_bridge.state import identity_store


def without_customer(message: VendorMessage) -> VendorMessage:
    person = message.action.person.model_copy(update={"stripe_customer_id": None})
    return message.model_copy(update={"action": message.action.model_copy(update={"person": person})})


def test_a_remembered_email_is_filled_in_and_nothing_else_changes(aws: FakeAws) -> None:
    identity_store(STATE_TABLE).remember("cus_1", "jane@example.com", as_of=1_700_000_000)
    message = make_message(email=None)
    resolved = identity_resolver(STATE_TABLE)(message)
    assert resolved is not None
    assert resolved.action.person.email == "jane@example.com"
    expected = message.model_dump(mode="json")
    expected["action"]["person"]["email"] = "jane@example.com"
    assert resolved.model_dump(mode="json") == expected


def test_an_unknown_customer_resolves_to_nothing(aws: FakeAws) -> None:
    identity_store(STATE_TABLE).remember("cus_other", "other@example.com", as_of=1_700_000_000)
    assert identity_resolver(STATE_TABLE)(make_message(email=None)) is None


def test_a_person_without_a_customer_id_resolves_to_nothing(aws: FakeAws) -> None:
    identity_store(STATE_TABLE).remember("", "nobody@example.com", as_of=1_700_000_000)
    assert identity_resolver(STATE_TABLE)(without_customer(make_message(email=None))) is None
