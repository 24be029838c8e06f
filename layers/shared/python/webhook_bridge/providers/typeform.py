"""Typeform ``form_response`` webhooks → one identify + track action.

The person is the respondent's email: the first answer of type ``email``, else, only for
forms whose mapping sets ``hidden_email``, the hidden field ``email`` (anyone can put any
address in a form's URL, so trusting it is the form owner's decision).
Every answer becomes a trait keyed by its field ``ref`` (or the attribute
name configured for that ref); hidden fields and the calculated score become traits too,
except the hidden fields that name attribution (``utm_*``, ``referrer``, ``ip``... see
``webhook_bridge.attribution``), which fill ``Person.attribution``.
``form_response_partial`` maps the same way, with its own event name, for the forms whose
configuration opts in (``partial_responses``). Other event types, disabled forms and
responses without an email map to ``[]``. Malformed payloads raise ``MappingError``; within a well-formed
response, answers without a value, answer types we do not know and nested hidden values
are skipped rather than refused, so one odd field never loses the whole response.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from webhook_bridge.actions import Action, ActionKind, InvalidEmailError, Person, TrackEvent, normalize_email
from webhook_bridge.mapping_config import MappingContext, TypeformFormConfig
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.providers.payload import Payload, parse

Number = int | Annotated[float, Field(allow_inf_nan=False)]
NonEmpty = Annotated[str, Field(min_length=1)]


class AnswerField(Payload):
    id: NonEmpty
    ref: str | None = None
    type: str | None = None


class Choice(Payload):
    label: str | None = None
    other: str | None = None


class Choices(Payload):
    labels: list[str | None] | None = None
    other: str | None = None


class PaymentAnswer(Payload):
    amount: str | None = None  # decimal text in the form's currency, e.g. "4.50"
    last4: str | None = None
    name: str | None = None
    success: bool | None = None


class Answer(Payload):
    type: NonEmpty
    field: AnswerField
    text: str | None = None
    email: str | None = None
    number: Number | None = None
    boolean: bool | None = None
    date: str | None = None
    choice: Choice | None = None
    choices: Choices | None = None
    phone_number: str | None = None
    url: str | None = None
    file_url: str | None = None
    payment: PaymentAnswer | None = None


class Calculated(Payload):
    score: Number | None = None


class Definition(Payload):
    id: str | None = None
    title: str | None = None


class FormResponse(Payload):
    form_id: NonEmpty
    token: NonEmpty
    landed_at: str | None = None
    submitted_at: str | None = None
    calculated: Calculated | None = None
    # Hidden fields are text from the form's URL; values of other JSON types are tolerated (see _hidden).
    hidden: dict[str, Any] | None = None
    definition: Definition | None = None
    answers: list[Answer] | None = None


class Envelope(Payload):
    event_id: NonEmpty
    event_type: NonEmpty


class TypeformEvent(Envelope):
    form_response: FormResponse


_PLAIN = ("text", "email", "number", "boolean", "date", "phone_number", "url", "file_url")
_NAME_ATTRIBUTES = ("first_name", "last_name")


def _value(answer: Answer) -> Any:
    """The answer's value, or ``None`` to skip it: unknown answer types (so new Typeform
    types never break us) and answers without a value (null or absent) set nothing."""
    kind = answer.type
    if kind not in (*_PLAIN, "choice", "choices", "payment"):
        return None
    raw = getattr(answer, kind)
    if raw is None:
        return None
    if isinstance(raw, Choice):
        return raw.label if raw.label is not None else raw.other
    if isinstance(raw, Choices):
        chosen = [label for label in raw.labels or [] if label is not None]
        return [*chosen, *([raw.other] if raw.other else [])] or None
    if isinstance(raw, PaymentAnswer):
        return {key: value for key, value in raw.model_dump().items() if value is not None} or None
    if kind == "email":
        return normalize_email(raw)  # same spelling as Person.email, so vendors can match them
    return raw


def _hidden_text(value: Any) -> str | None:
    """Hidden fields are meant to be text: scalars become text, empty and nested values are skipped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    if isinstance(value, str):
        return value or None
    return None  # null, NaN/Infinity, objects and lists


def _hidden(response: FormResponse) -> dict[str, str]:
    texts = {name: _hidden_text(value) for name, value in (response.hidden or {}).items()}
    return {name: text for name, text in texts.items() if text is not None}


def _hidden_email(response: FormResponse) -> str | None:
    """The hidden field ``email``, when it is an address: it is free text from the form's URL,
    where ``?email=ana+news@example.com`` arrives as ``"ana news@example.com"``. Not an
    address is no email (the response maps to nothing), not a malformed payload."""
    try:
        email = normalize_email(_hidden(response).get("email"))
    except InvalidEmailError:
        return None
    return email if email and "@" in email else None


def _email(response: FormResponse, config: TypeformFormConfig) -> str | None:
    # Typeform validates an email answer: one with whitespace in it is a forged payload (400).
    answered = (normalize_email(answer.email) for answer in response.answers or [] if answer.type == "email")
    email = next((email for email in answered if email and "@" in email), None)
    return email or (_hidden_email(response) if config.hidden_email else None)


def _submitted_at(response: FormResponse) -> datetime:
    text = response.submitted_at or response.landed_at
    try:
        moment = datetime.fromisoformat(text or "")
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise MappingError("typeform", "form_response", ["form_response.submitted_at: not an ISO 8601 time"]) from None


def _traits(response: FormResponse, config: TypeformFormConfig, hidden: dict[str, str]) -> dict[str, Any]:
    # Later sources win: an answer beats a hidden field of the same name beats the score.
    traits: dict[str, Any] = {}
    if response.calculated and response.calculated.score is not None:
        traits["score"] = response.calculated.score
    traits.update(hidden)
    for answer in response.answers or []:
        value = _value(answer)
        if value is not None:
            traits[answer.field.ref or answer.field.id] = value
    renamed = {config.fields.get(key, key): value for key, value in traits.items()}
    renamed.pop("email", None)  # the identity travels in Person.email; vendors reserve the name
    return renamed


PARTIAL = "form_response_partial"
_RESPONSE_TYPES = frozenset({"form_response", PARTIAL})


def map_typeform_event(payload: dict[str, Any], ctx: MappingContext) -> list[Action]:
    if not isinstance(payload, dict):
        raise MappingError("typeform", None, ["(root): expected a JSON object"])
    declared = payload.get("event_type")
    envelope = parse(Envelope, payload, source="typeform", event_type=declared if isinstance(declared, str) else None)
    if envelope.event_type not in _RESPONSE_TYPES:  # future types
        return []
    event = parse(TypeformEvent, payload, source="typeform", event_type=envelope.event_type)
    response = event.form_response
    config = ctx.config.typeform.form(response.form_id)
    partial = event.event_type == PARTIAL
    if not config.enabled or (partial and not config.partial_responses):
        return []
    occurred_at = _submitted_at(response)
    # Attribution hidden fields (utm_*, referrer, ip...) fill Person.attribution, not traits.
    attribution, hidden = ctx.config.attribution.split(_hidden(response))
    traits = _traits(response, config, hidden)
    email = _email(response, config)
    if email is None:
        return []
    names = {attribute: traits.pop(attribute, None) for attribute in _NAME_ATTRIBUTES}
    person = Person(
        email=email,
        first_name=names["first_name"] if isinstance(names["first_name"], str) else None,
        last_name=names["last_name"] if isinstance(names["last_name"], str) else None,
        traits=traits,
        attribution=attribution,
        memberships=config.memberships_joined(),
    )
    score = response.calculated.score if response.calculated else None
    properties = {
        "form_id": response.form_id,
        "form_title": response.definition.title if response.definition else None,
        "response_token": response.token,
        "score": score,
    }
    return [
        Action(
            id=Action.make_id("typeform", event.event_id, 0),
            kind=ActionKind.TRACK,
            source="typeform",
            source_event_id=event.event_id,
            source_event_type=event.event_type,
            occurred_at=occurred_at,
            person=person,
            identify=True,
            event=TrackEvent(
                name=config.partial_event_name if partial else config.event_name,
                properties={k: v for k, v in properties.items() if v is not None},
            ),
        )
    ]
