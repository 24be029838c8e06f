"""The functions' handlers in this process, for tests and benchmarks that call them directly, and for
devstack's worker (standard library only: it runs before a handler's cold start)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def load_function(name: str) -> ModuleType:
    """``functions/<name>/app.py`` under a module name of its own, as devstack's worker loads it."""
    return import_by_path(f"fn_{name}_app", FUNCTIONS_DIR / name / "app.py")


def import_by_path(name: str, file: Path) -> ModuleType:
    """Every function's module is ``app.py``, as Lambda wants: a module name of its own keeps them apart."""
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: dataclasses and pydantic look the module up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
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
