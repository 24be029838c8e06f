"""Docker-free local stack for `make dev`.

``from devstack import Stack``; see ``devstack.stack``. The import is lazy because
``devstack.worker`` (the Lambda-like child process) imports this package and must
stay free of boto3, moto and Werkzeug before the handler's own cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devstack.stack import Stack

__all__ = ["Stack"]


def __getattr__(name: str) -> Any:
    if name == "Stack":
        from devstack.stack import Stack

        return Stack
    raise AttributeError(f"module 'devstack' has no attribute {name!r}")
