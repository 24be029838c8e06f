"""Local impersonation of the ConvertLoop, Loops, Customer.io and SegMetrics APIs.

One threaded HTTP server serves all four under path prefixes, enforces their documented
auth, required fields and (for Loops) rate limit, records every request, and can be told
to fail or slow down. See ``SandboxServer`` and ``python -m devstack.sandbox --help``.
"""

from devstack.sandbox.app import Sandbox
from devstack.sandbox.clock import Clock, ManualClock, SystemClock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.server import SandboxServer

__all__ = ["Clock", "ManualClock", "Sandbox", "SandboxCredentials", "SandboxServer", "SystemClock"]
