"""Whatever arrives, the mappers answer with actions or a MappingError (→ 400), never anything else."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.providers.conftest import CURRENT, OLD, context, stripe_event, typeform_payload
from webhook_bridge.actions import Action
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.providers.stripe.handlers import HANDLERS
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.typeform import map_typeform_event

Mapper = Callable[[dict[str, Any], MappingContext], list[Action]]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # json.loads accepts NaN and Infinity
    | st.text(max_size=12)
    | st.sampled_from(["", "cus_1", "2025-10-14T09:15:41Z", "month", "email", "choice", "1250.5", "é@x.y"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
STRIPE_TYPES = sorted(HANDLERS)
FIXTURE_TYPES = [(OLD, t) for t in STRIPE_TYPES if t != "invoice_payment.paid"] + [(CURRENT, t) for t in STRIPE_TYPES]
TYPEFORM_FIXTURES = ["form_response", "form_response_hidden_email", "form_response_partial"]
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(mapper: Mapper, payload: Any, ctx: MappingContext | None = None) -> None:
    try:
        actions = mapper(payload, ctx or context())
    except MappingError as error:
        assert str(error)
        return
    for action in actions:
        # What comes out must make the SQS trip: JSON and back, unchanged.
        assert Action.model_validate_json(action.model_dump_json()) == action


def mutate(draw: st.DrawFn, value: Any) -> Any:
    """Replace, drop or retype one node somewhere inside ``value``."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        if draw(st.integers(0, 4)) == 0:
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: mutate(draw, value[key])}
    if isinstance(value, list) and value and draw(st.booleans()):
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], mutate(draw, value[index]), *value[index + 1 :]]
    return draw(json_values)


@st.composite
def mutated_stripe_events(draw: st.DrawFn) -> dict[str, Any]:
    version, event_type = draw(st.sampled_from(FIXTURE_TYPES))
    payload = stripe_event(version, event_type)
    for _ in range(draw(st.integers(1, 3))):
        payload = mutate(draw, payload)
    return payload  # type: ignore[no-any-return]


@st.composite
def mutated_typeform_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload: Any = typeform_payload(draw(st.sampled_from(TYPEFORM_FIXTURES)))
    for _ in range(draw(st.integers(1, 3))):
        payload = mutate(draw, payload)
    return payload  # type: ignore[no-any-return]


@PROPERTY_SETTINGS
@given(json_values)
def test_stripe_any_json(payload: Any) -> None:
    check(map_stripe_event, payload)


@PROPERTY_SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "id": scalars,
            "type": st.sampled_from(STRIPE_TYPES) | scalars,
            "created": scalars,
            "data": st.fixed_dictionaries({"object": json_values}) | json_values,
        }
    )
)
def test_stripe_any_object_under_a_known_type(payload: dict[str, Any]) -> None:
    check(map_stripe_event, payload)


@PROPERTY_SETTINGS
@given(mutated_stripe_events())
def test_stripe_mutated_real_events(payload: dict[str, Any]) -> None:
    ctx = context()
    # Known customer and paid invoices, so the lookup paths run too.
    for event_type in ("customer.created", "invoice.paid"):
        map_stripe_event(stripe_event(CURRENT, event_type), ctx)
        map_stripe_event(stripe_event(OLD, event_type), ctx)
    map_stripe_event(stripe_event(CURRENT, "invoice_payment.paid"), ctx)
    check(map_stripe_event, copy.deepcopy(payload), ctx)


@PROPERTY_SETTINGS
@given(json_values)
def test_typeform_any_json(payload: Any) -> None:
    check(map_typeform_event, payload)


@PROPERTY_SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "event_id": scalars,
            "event_type": st.just("form_response") | scalars,
            "form_response": st.fixed_dictionaries(
                {
                    "form_id": scalars,
                    "token": scalars,
                    "submitted_at": scalars,
                    "hidden": json_values,
                    "calculated": st.fixed_dictionaries({"score": scalars}) | json_values,
                    "answers": st.lists(
                        st.fixed_dictionaries(
                            {
                                "type": st.sampled_from(["text", "email", "choice", "choices", "payment", "number"])
                                | scalars,
                                "field": st.fixed_dictionaries({"id": scalars, "ref": scalars}) | json_values,
                                "text": scalars,
                                "email": scalars,
                                "number": scalars,
                                "choice": json_values,
                                "choices": json_values,
                                "payment": json_values,
                            }
                        ),
                        max_size=3,
                    ),
                }
            ),
        }
    )
)
def test_typeform_any_answers(payload: dict[str, Any]) -> None:
    check(map_typeform_event, payload)


@PROPERTY_SETTINGS
@given(mutated_typeform_payloads())
def test_typeform_mutated_real_payloads(payload: dict[str, Any]) -> None:
    check(map_typeform_event, payload)
