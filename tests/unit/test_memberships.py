"""Person.memberships: lists keyed by the vendor that keeps them, and the former fields."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.integration.test_former_formats import FORMER_SNAPSHOT
from webhook_bridge.actions import Memberships, Person
from webhook_bridge.delivery.ordering import Snapshot

SEGMENTS = Memberships(join=("Customers",), leave=("Leads",))
TAGS = Memberships(join=("Buyer",), leave=("Trial",))


def test_the_former_fields_are_the_lists_of_the_vendor_whose_spec_names_them() -> None:
    former = Person.model_validate(
        {"email": "ann@example.com", "segments_add": ["Customers"], "segments_remove": ["Leads"], "tags_add": ["Buyer"]}
    )
    assert former == Person(
        email="ann@example.com",
        memberships={"convertloop": SEGMENTS, "segmetrics": Memberships(join=("Buyer",))},
    )


def test_empty_former_fields_are_no_memberships() -> None:
    former = Person.model_validate_json(
        '{"email": "ann@example.com", "segments_add": [], "segments_remove": [], "tags_add": [], "tags_remove": []}'
    )
    assert former == Person(email="ann@example.com")
    assert former.memberships == {}


def test_a_stored_snapshot_of_the_former_format_reads_as_the_same_state() -> None:
    snapshot = Snapshot.model_validate_json(FORMER_SNAPSHOT)
    assert snapshot.person.memberships == {"convertloop": SEGMENTS, "segmetrics": TAGS}
    assert Snapshot.model_validate_json(snapshot.model_dump_json()) == snapshot


@pytest.mark.parametrize(
    "fields",
    [
        {"segments_add": ["A"], "colour": "red"},  # a former field does not let an unknown one through
        {"colour": "red"},
        {"memberships": {}, "tags_add": ["A"]},  # the two formats are never mixed
    ],
)
def test_unknown_fields_are_still_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Person.model_validate({"email": "ann@example.com", **fields})


def test_a_vendor_reads_the_lists_of_several_vendors_in_order_without_repeats() -> None:
    person = Person(
        memberships={
            "convertloop": SEGMENTS,
            "segmetrics": Memberships(join=("Buyer", "Customers"), leave=("Leads",)),
        }
    )
    assert person.memberships_at(["segmetrics", "convertloop"]) == Memberships(
        join=("Buyer", "Customers"), leave=("Leads",)
    )
    assert person.memberships_at(["loops"]) == Memberships()
