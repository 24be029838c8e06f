"""Lambda SnapStart runtime hooks (template.yaml's ``SnapStart`` parameter, docs/operations.md).

With SnapStart, Lambda runs a version's initialisation once, when the version is published,
snapshots the memory and restores every new execution environment from it. So:

- before the snapshot: import, validate settings, build the boto3 clients and the handler's
  objects — everything a cold start pays for, but no network call (a connection opened
  now would be restored half-dead) and no secret read (it would be frozen into the snapshot);
- after each restore: what must differ between environments or be read fresh — the random
  generator (retry jitter must not line up across instances restored from one snapshot)
  and the cached secrets (a rotation after the snapshot must be seen).

The hooks come from ``snapshot_restore_py``, which only Lambda's Python runtime provides;
elsewhere (tests, ``make dev``, benchmarks) nothing is ever snapshotted and nothing is registered.
The runtime runs before-snapshot hooks in reverse order of registration and after-restore
hooks in order of registration; without SnapStart it runs neither.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from webhook_bridge.observability import error_fields, logger
from webhook_bridge.secrets import forget_cached_secrets

Hook = Callable[[], Any]


def _runtime_hooks() -> Any | None:
    """Lambda's ``snapshot_restore_py``, or ``None`` off Lambda's Python runtime."""
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return snapshot_restore_py


def refresh_after_restore() -> None:
    random.seed()  # from os.urandom: each restored environment gets its own sequence
    forget_cached_secrets()


def prepare_snapshot(warm_up: Hook) -> None:
    """Run ``warm_up`` before the snapshot, and refresh each restored environment.

    A failing warm-up is logged, not raised: publishing the version would fail, whereas
    without it the function answers as it would without SnapStart (a configuration error
    becomes a logged 503 on the first request, see ``receiver.http``)."""

    def before_snapshot() -> None:
        try:
            warm_up()
        except Exception as error:
            logger.warning("warm-up before the snapshot failed", extra=error_fields(error))

    hooks = _runtime_hooks()
    if hooks is not None:
        hooks.register_before_snapshot(before_snapshot)
        hooks.register_after_restore(refresh_after_restore)
