"""ConvertLoop as the bridge sees it: names, configuration, pacing and what it is sent."""

from __future__ import annotations

from webhook_bridge.actions import Action
from webhook_bridge.vendors.catalog import VendorSpec


def handles(action: Action) -> bool:
    return action.identify or action.event is not None


SPEC = VendorSpec(
    name="convertloop",
    display_name="ConvertLoop",
    logical_id="ConvertLoop",
    package=__package__ or "webhook_bridge.vendors.convertloop",
    secret_keys=("CONVERTLOOP_APP_ID", "CONVERTLOOP_API_KEY"),
    base_urls={"CONVERTLOOP_BASE_URL": "https://api.convertloop.co/v1"},
    rate_limit_per_second=10,
    rate_limit_source="not documented by ConvertLoop; a conservative default",
    max_concurrency=5,
    erases=False,  # the documented API has no way to delete a person
    handles=handles,
    keeps_lists="segments",  # add_to_segments / remove_from_segments on POST /people
    former_person_fields=("segments_add", "segments_remove"),
)
