"""Typeform form_response → one identify + track action, for every answer type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.providers.conftest import context, typeform_payload
from webhook_bridge.actions import Action, ActionKind, Attribution, InvalidEmailError, Person, TrackEvent
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.providers.typeform import map_typeform_event


def test_every_answer_type_becomes_a_trait_keyed_by_ref(ctx: MappingContext) -> None:
    assert map_typeform_event(typeform_payload("form_response"), ctx) == [
        Action(
            id="typeform:01K7E3Q6M2X4VJ8T5R9N0PZ1WD:0",
            kind=ActionKind.TRACK,
            source="typeform",
            source_event_id="01K7E3Q6M2X4VJ8T5R9N0PZ1WD",
            source_event_type="form_response",
            occurred_at=datetime(2025, 10, 14, 9, 15, 41, tzinfo=UTC),
            person=Person(
                email="josé@example.com",  # "JOSÉ@Example.COM " trimmed and lower-cased
                traits={
                    "score": 12,
                    "user_id": "u_4812",
                    "full_name": "Zoë Ñúñez",
                    "work_email": "josé@example.com",
                    "goals": "Quiero automatizar la facturación 🚀\nY reducir el churn.",
                    "team_size": 12,
                    "nps": 9,
                    "satisfaction": 4,
                    "newsletter_opt_in": True,
                    "accepts_terms": True,
                    "start_date": "2025-11-03",
                    "role": "Fundadora",
                    "country": "España",
                    "heard_from": "Un pódcast de SaaS",  # "other" answer
                    "interests": ["Facturación", "Analítica", "Integraciones con el CRM"],
                    "favorite_plan": "Pro",
                    "priorities": ["Velocidad", "Precio", "Soporte"],  # ranking keeps the order given
                    "phone": "+34955123456",
                    "company_site": "https://acme.example/es",
                    "logo": "https://api.typeform.com/forms/Vq2mXo9L/responses/01K7E3PZ8W6C1F4H3K7N2Q5R8T"
                    "/fields/iJ7kL8mN9oP0/files/9c1f2e7a0b3d-logo_acme.png",
                    "deposit": {"amount": "49.00", "last4": "4242", "name": "Zoë Ñúñez", "success": True},
                },
                # the UTM hidden fields are attribution, not traits
                attribution=Attribution(utm_campaign="otoño-2025", utm_source="newsletter"),
            ),
            identify=True,
            event=TrackEvent(
                name="form_submitted",
                properties={
                    "form_id": "Vq2mXo9L",
                    "form_title": "Onboarding — cuéntanos de ti",
                    "response_token": "01K7E3PZ8W6C1F4H3K7N2Q5R8T",
                    "score": 12,
                },
            ),
        )
    ]


def test_hidden_email_identifies_when_no_email_answer(hidden_email_ctx: MappingContext) -> None:
    [action] = map_typeform_event(typeform_payload("form_response_hidden_email"), hidden_email_ctx)
    assert action.person == Person(
        email="josé@example.com",
        # the hidden email is the identity, not a trait; the empty hidden "plan" sets nothing
        traits={
            "score": 0,
            "cancel_reason": "Es demasiado caro",
            "comments": "Volveré cuando crezca el equipo — ¡gracias!",
        },
        attribution=Attribution(utm_source="partner"),
    )
    assert action.event is not None
    assert action.event.properties["score"] == 0


def test_a_hidden_email_is_ignored_unless_the_form_opts_in(ctx: MappingContext) -> None:
    # Anyone can edit a form's URL: by default its hidden "email" identifies nobody.
    assert map_typeform_event(typeform_payload("form_response_hidden_email"), ctx) == []
    payload = typeform_payload("form_response")
    payload["form_response"]["answers"][1]["email"] = None
    payload["form_response"]["hidden"]["email"] = "hidden@example.com"
    assert map_typeform_event(payload, ctx) == []
    per_form = context({"typeform": {"forms": {"lT4Z3j": {"hidden_email": True}}}})
    payload["form_response"]["form_id"] = "lT4Z3j"
    [action] = map_typeform_event(payload, per_form)
    assert action.person.email == "hidden@example.com"


@pytest.mark.parametrize(
    "email",
    ["jane\n@example.com", "jane@example.com\r\nBcc: x@y.com", "jane doe@example.com", "ja\u200bne@example.com"],
)
def test_an_email_with_control_characters_or_whitespace_is_refused(ctx: MappingContext, email: str) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["answers"][1]["email"] = email
    with pytest.raises(InvalidEmailError):
        map_typeform_event(payload, ctx)


def test_email_answer_wins_over_hidden_email(hidden_email_ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["hidden"]["email"] = "hidden@example.com"
    [action] = map_typeform_event(payload, hidden_email_ctx)
    assert action.person.email == "josé@example.com"


# "ana news@example.com": ?email=ana+news@example.com in the form's URL, its + read as a space.
@pytest.mark.parametrize("hidden_email", [None, "", "   ", "not-an-email", "ana news@example.com", "ana@example.com\n"])
def test_no_email_maps_to_nothing(hidden_email_ctx: MappingContext, hidden_email: str | None) -> None:
    payload = typeform_payload("form_response_hidden_email")
    payload["form_response"]["hidden"]["email"] = hidden_email
    assert map_typeform_event(payload, hidden_email_ctx) == []


def test_partial_responses_and_unknown_event_types_map_to_nothing(ctx: MappingContext) -> None:
    assert map_typeform_event(typeform_payload("form_response_partial"), ctx) == []
    payload = typeform_payload("form_response")
    payload["event_type"] = "form_response_updated"
    assert map_typeform_event(payload, ctx) == []


def test_unknown_answer_types_are_skipped(ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["answers"].append(
        {"type": "multi_format", "multi_format": {"video_url": "https://x"}, "field": {"id": "zz", "type": "video"}}
    )
    [action] = map_typeform_event(payload, ctx)
    assert "zz" not in action.person.traits


def test_answer_without_ref_is_keyed_by_field_id(hidden_email_ctx: MappingContext) -> None:
    payload = typeform_payload("form_response_hidden_email")
    del payload["form_response"]["answers"][1]["field"]["ref"]
    [action] = map_typeform_event(payload, hidden_email_ctx)
    assert action.person.traits["Ve9Uf0Tg1Sh2"] == "Volveré cuando crezca el equipo — ¡gracias!"


@pytest.mark.parametrize("index", [0, 3, 6, 9, 12, 18])  # text, number, boolean, choice, choices, payment
@pytest.mark.parametrize("how", ["null", "absent"])
def test_answer_without_a_value_is_skipped_not_refused(ctx: MappingContext, index: int, how: str) -> None:
    payload = typeform_payload("form_response")
    answer = payload["form_response"]["answers"][index]
    if how == "null":
        answer[answer["type"]] = None
    else:
        del answer[answer["type"]]
    [action] = map_typeform_event(payload, ctx)
    assert answer["field"]["ref"] not in action.person.traits
    assert action.person.traits["goals"]  # the rest of the response is kept


def test_email_answer_without_value_falls_back_to_the_hidden_email(hidden_email_ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["answers"][1]["email"] = None
    payload["form_response"]["hidden"]["email"] = "Hidden@Example.com"
    [action] = map_typeform_event(payload, hidden_email_ctx)
    assert action.person.email == "hidden@example.com"
    assert "work_email" not in action.person.traits


def test_empty_parts_of_choices_and_payments_are_left_out(ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    answers = payload["form_response"]["answers"]
    answers[12]["choices"] = {"labels": ["Analítica", None]}
    answers[14]["choices"] = {"labels": [], "other": None}
    answers[18]["payment"] = {"amount": "49.00", "last4": None, "name": None, "success": True}
    [action] = map_typeform_event(payload, ctx)
    assert action.person.traits["interests"] == ["Analítica"]
    assert "priorities" not in action.person.traits
    assert action.person.traits["deposit"] == {"amount": "49.00", "success": True}


def test_hidden_values_that_are_not_text(ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["hidden"].update(
        user_id=4812, ratio=0.5, beta=True, nested={"a": 1}, listed=["x"], nothing=None, empty=""
    )
    [action] = map_typeform_event(payload, ctx)
    traits = action.person.traits
    assert (traits["user_id"], traits["ratio"], traits["beta"]) == ("4812", "0.5", "true")  # scalars as text
    assert not {"nested", "listed", "nothing", "empty"} & set(traits)  # nested and empty values skipped


def test_a_numeric_hidden_email_is_not_an_email(hidden_email_ctx: MappingContext) -> None:
    payload = typeform_payload("form_response_hidden_email")
    payload["form_response"]["hidden"]["email"] = 12345
    assert map_typeform_event(payload, hidden_email_ctx) == []


def test_response_with_null_answers_and_hidden_email(hidden_email_ctx: MappingContext) -> None:
    payload = typeform_payload("form_response_hidden_email")
    payload["form_response"]["answers"] = None
    [action] = map_typeform_event(payload, hidden_email_ctx)
    assert action.person.traits == {"score": 0}
    assert action.person.attribution == Attribution(utm_source="partner")


def test_email_keeps_its_characters(ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["answers"][1]["email"] = " Straße@Example.DE"
    [action] = map_typeform_event(payload, ctx)
    assert action.person.email == "straße@example.de"  # lower-cased, not case-folded to "strasse"
    assert action.person.traits["work_email"] == "straße@example.de"


def test_naive_and_offset_times_become_utc(ctx: MappingContext) -> None:
    payload = typeform_payload("form_response")
    payload["form_response"]["submitted_at"] = "2025-10-14T11:15:41+02:00"
    [action] = map_typeform_event(payload, ctx)
    assert action.occurred_at == datetime(2025, 10, 14, 9, 15, 41, tzinfo=UTC)
    payload["form_response"]["submitted_at"] = "2025-10-14T09:15:41"
    [action] = map_typeform_event(payload, ctx)
    assert action.occurred_at == datetime(2025, 10, 14, 9, 15, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "value", "mentions"),
    [
        (("form_response",), "nope", "form_response"),
        (("form_response", "submitted_at"), "yesterday", "submitted_at"),
        (("form_response", "answers"), {"a": 1}, "answers"),
        (("form_response", "hidden"), ["email"], "hidden"),
        (("event_id",), 7, "event_id"),
    ],
)
def test_malformed_payloads_name_the_field(
    ctx: MappingContext, path: tuple[str, ...], value: object, mentions: str
) -> None:
    payload = typeform_payload("form_response")
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MappingError, match=mentions) as error:
        map_typeform_event(payload, ctx)
    assert "josé" not in str(error.value).lower()  # values, personal data included, stay out of messages
