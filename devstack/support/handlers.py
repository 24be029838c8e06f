"""The functions' handlers in this process, for tests and benchmarks that call them directly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def load_function(name: str) -> ModuleType:
    """``functions/<name>/app.py`` under a module name of its own, as separate Lambdas hold them
    (devstack's worker names them the same way)."""
    module_name = f"fn_{name}_app"
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # before exec: dataclasses and pydantic look the module up
    spec.loader.exec_module(module)
    return module


def forget_cold_start() -> None:
    """Forget what a cold start built, so that the next invocation reads the (new) configuration."""
    from webhook_bridge.delivery.factory import build_processor
    from webhook_bridge.receiver import publisher
    from webhook_bridge.receiver.factory import build_receiver
    from webhook_bridge.settings import delivery_settings, receiver_settings
    from webhook_bridge.state import dynamodb as state_dynamodb
    from webhook_bridge.state import identity_store, invoice_memory
    from webhook_bridge.vendors import registry

    for cached in (
        build_processor,
        build_receiver,
        delivery_settings,
        receiver_settings,
        publisher.sqs_client,
        state_dynamodb.dynamodb_client,
        identity_store,
        invoice_memory,
    ):
        cached.cache_clear()
    registry.forget_client()
