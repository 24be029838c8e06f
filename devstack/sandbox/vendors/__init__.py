"""The impersonated vendor APIs, each mounted under its own path prefix."""

from __future__ import annotations

from devstack.sandbox.clock import Clock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.vendors.base import VendorService
from devstack.sandbox.vendors.convertloop import ConvertLoop
from devstack.sandbox.vendors.customerio import CustomerIO
from devstack.sandbox.vendors.loops import DOCUMENTED_RATE_LIMIT, Loops
from devstack.sandbox.vendors.segmetrics import SegMetrics

__all__ = ["DOCUMENTED_RATE_LIMIT", "VendorService", "build_services"]


def build_services(
    credentials: SandboxCredentials, clock: Clock, *, loops_rate_limit: int | None = DOCUMENTED_RATE_LIMIT
) -> list[VendorService]:
    return [
        ConvertLoop(credentials, clock),
        Loops(credentials, clock, rate_limit=loops_rate_limit),
        CustomerIO(credentials, clock),
        SegMetrics(credentials, clock),
    ]
