"""The delivery tests' shared fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from webhook_bridge.observability import metrics


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the metrics added, in order."""
    names: list[str] = []

    def add_metric(name: str, *args: Any, **kwargs: Any) -> None:
        names.append(name)

    monkeypatch.setattr(metrics, "add_metric", add_metric)
    return names
