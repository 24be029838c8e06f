"""SnapStart off Lambda: ``snapshot_restore_py``, the module only Lambda's Python runtime provides."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any


class SnapStartRuntime:
    """``snapshot_restore_py`` as Lambda's Python runtime provides it, and the runtime's order:
    before-snapshot hooks in reverse order of registration, after-restore hooks in order.

    Functions loaded once ``module`` is in ``sys.modules`` register their hooks with it."""

    def __init__(self) -> None:
        self.before: list[Callable[[], Any]] = []
        self.after: list[Callable[[], Any]] = []
        self.module = ModuleType("snapshot_restore_py")
        self.module.register_before_snapshot = self._register(self.before)  # type: ignore[attr-defined]
        self.module.register_after_restore = self._register(self.after)  # type: ignore[attr-defined]

    @staticmethod
    def _register(hooks: list[Callable[[], Any]]) -> Callable[..., Callable[[], Any]]:
        def register(func: Callable[[], Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
            hooks.append(lambda: func(*args, **kwargs))
            return func

        return register

    def snapshot(self) -> None:
        for hook in reversed(self.before):
            hook()

    def restore(self) -> None:
        for hook in self.after:
            hook()
