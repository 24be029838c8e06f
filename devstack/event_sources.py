"""The template's SQS event source mappings in the emulated Lambda API: their state only.

The local pollers (``devstack.poller``) are the event sources; the mappings exist so that
``bridgectl vendor pause/resume`` finds and changes them as on AWS, and each poller follows
its mapping's state. moto itself must never invoke a function from SQS (``devstack.support.moto``).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import zipfile
from typing import Any

log = logging.getLogger("devstack.event_sources")

# A mapping's state is read at most this often per poller: pause and resume act within it.
MAPPING_STATE_TTL_SECONDS = 0.5
LOCAL_FUNCTION_ROLE = "devstack-local-function"
_RUNNING_STATES = ("Enabled", "Enabling", "Updating")


class EventSourceMappingState:
    """Whether an event source mapping is enabled, as ``bridgectl vendor pause/resume`` leave it."""

    def __init__(self, lambda_client: Any, uuid: str) -> None:
        self.uuid = uuid
        self._lambda = lambda_client
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._enabled = True

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at >= MAPPING_STATE_TTL_SECONDS:
                try:
                    state = self._lambda.get_event_source_mapping(UUID=self.uuid)["State"]
                    self._enabled = state in _RUNNING_STATES
                except Exception as error:  # the emulator stopping: keep the last known state
                    log.debug("event source mapping %s: %s", self.uuid, error)
                self._checked_at = time.monotonic()
            return self._enabled


def register_event_source(
    lambda_client: Any, iam: Any, function_name: str, queue_arn: str, batch_size: int
) -> EventSourceMappingState:
    """The function (an empty package: moto never runs it) and its mapping, so that the Lambda
    API answers ``list_event_source_mappings``/``update_event_source_mapping`` as on AWS."""
    try:
        lambda_client.get_function(FunctionName=function_name)
    except lambda_client.exceptions.ResourceNotFoundException:
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.py", "")
        lambda_client.create_function(
            FunctionName=function_name,
            Runtime="python3.12",
            Role=_local_role(iam),
            Handler="app.lambda_handler",
            Code={"ZipFile": package.getvalue()},
        )
    mapping = lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=function_name, BatchSize=batch_size, Enabled=True
    )
    return EventSourceMappingState(lambda_client, mapping["UUID"])


def _local_role(iam: Any) -> str:
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    try:
        return str(iam.get_role(RoleName=LOCAL_FUNCTION_ROLE)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName=LOCAL_FUNCTION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        )
