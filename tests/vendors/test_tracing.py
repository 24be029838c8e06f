"""With the X-Ray SDK on (``XRaySdk=true``), a vendor call's subsegment names its route, never its URL.

Run in a fresh interpreter: the SDK patches libraries process-wide, and only in a Lambda
environment (a function name and a trace header), which the script sets up for itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.canary import EMAIL, NAME, telltales_in

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import httpx
from aws_xray_sdk.core import xray_recorder

segments = []


class Emitter:
    def send_entity(self, entity):
        segments.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address):
        pass


xray_recorder.configure(emitter=Emitter(), sampling=False)
import webhook_bridge.observability  # first, as in every function: it builds the Tracer
from webhook_bridge.vendors.customerio.client import CustomerIoClient


def vendor(request):
    if request.method == "POST":
        raise httpx.ConnectError(f"refused {request.url}", request=request)
    return httpx.Response(400, json={"meta": {"error": f"invalid {request.url} {request.content.decode()}"}})


client = CustomerIoClient(
    site_id="site", api_key="key", base_url="https://track.customer.io/api/v1",
    http=httpx.Client(transport=httpx.MockTransport(vendor)),
)
xray_recorder.begin_subsegment("handler")
calls = (
    lambda: client.identify(EMAIL, {"name": NAME}),
    lambda: client.track_event(EMAIL, "signed_up", {"who": NAME}),
)
for call in calls:
    try:
        call()
    except Exception as error:
        print(type(error).__name__, file=sys.stderr)
xray_recorder.end_subsegment()
print(json.dumps(segments))
"""


def test_vendor_calls_are_traced_by_route_with_their_status_and_no_personal_data():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/shared/python"), str(ROOT)]),
        "BRIDGE_XRAY_SDK": "true",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_LAMBDA_FUNCTION_NAME": "customerio-delivery",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    script = f"EMAIL, NAME = {EMAIL!r}, {NAME!r}\n" + SCRIPT
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stderr.split() == ["BadRequestError", "APIConnectionError"]
    segments = json.loads(done.stdout)
    assert telltales_in(segments) == []
    calls = [s for s in segments if s.get("namespace") == "remote"]
    assert [(s["name"], s["http"]["request"]) for s in calls] == [
        ("customerio", {"method": "PUT", "url": "/customers/{id}"}),
        ("customerio", {"method": "POST", "url": "/customers/{id}/events"}),
    ]
    assert calls[0]["http"]["response"] == {"status": 400} and calls[1]["fault"] is True
