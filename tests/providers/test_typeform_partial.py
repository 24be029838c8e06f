"""Typeform partial responses (form_response_partial): off unless a form opts in."""

from __future__ import annotations

from tests.providers.conftest import context, typeform_payload
from webhook_bridge.actions import ActionKind
from webhook_bridge.providers.typeform import map_typeform_event

PARTIAL = typeform_payload("form_response_partial")
FORM = PARTIAL["form_response"]["form_id"]


def test_a_partial_response_is_ignored_by_default() -> None:
    assert map_typeform_event(PARTIAL, context()) == []


def test_a_form_that_opts_in_tracks_its_partial_responses_with_their_own_event_name() -> None:
    ctx = context({"typeform": {"forms": {FORM: {"partial_responses": True}}}})
    [action] = map_typeform_event(PARTIAL, ctx)
    assert (action.kind, action.identify, action.source_event_type) == (ActionKind.TRACK, True, "form_response_partial")
    assert action.event is not None and action.event.name == "form_partially_submitted"
    assert action.person.email is not None
    assert action.id == f"typeform:{PARTIAL['event_id']}:0"


def test_only_the_form_that_opts_in() -> None:
    ctx = context({"typeform": {"forms": {"another-form": {"partial_responses": True}}}})
    assert map_typeform_event(PARTIAL, ctx) == []


def test_the_partial_event_name_is_configurable_and_a_complete_response_keeps_its_own() -> None:
    config = {"typeform": {"default": {"partial_responses": True, "partial_event_name": "signup_abandoned"}}}
    [partial] = map_typeform_event(PARTIAL, context(config))
    [complete] = map_typeform_event(typeform_payload("form_response"), context(config))
    assert partial.event is not None and partial.event.name == "signup_abandoned"
    assert complete.event is not None and complete.event.name == "form_submitted"
