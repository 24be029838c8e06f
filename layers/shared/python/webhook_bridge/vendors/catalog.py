"""The registry of vendor specs: which vendors exist and what each one declares.

A vendor is a package ``webhook_bridge.vendors.<name>`` whose ``spec`` module holds a
:class:`VendorSpec` named ``SPEC``, listed in :data:`BUILT_IN`. Routing, the client
registry, ``bridgectl``, the local stack and the benchmarks all read the specs, so a new
vendor is one new package and its name here (docs/adding-a-vendor.md). :func:`register`
adds a vendor that lives elsewhere.

The specs are loaded on the first lookup, and only the ``spec`` modules, which import
nothing heavier than :mod:`webhook_bridge.actions`: the receiver pays for no vendor client
at cold start.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic_core import core_schema

from webhook_bridge.exceptions import BridgeError

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

    from webhook_bridge.actions import Action


@dataclass(frozen=True)
class VendorSpec:
    """Everything the bridge needs to know about a vendor, outside its client and adapter.

    ``package`` holds ``client.py`` (``from_configuration(values, http)``: a client from
    the values of ``secret_keys`` and ``base_urls``) and ``adapter.py`` (``deliver``); both
    are imported only when the vendor is delivered to.
    """

    name: str  # lower case: queue messages, ENABLED_VENDORS, the metrics dimension, bridgectl
    display_name: str
    logical_id: str  # template.yaml's prefix: <LogicalId>Queue, <LogicalId>DeadLetterQueue...
    package: str
    secret_keys: tuple[str, ...]  # credentials: Secrets Manager JSON keys, or environment names locally
    base_urls: Mapping[str, str]  # configuration name → the documented API root
    # Requests per second the vendor allows a whole deployment, and what it rests on.
    rate_limit_per_second: float
    rate_limit_source: str
    # Most delivery functions at once (the SQS event source's MaximumConcurrency, at least 2).
    max_concurrency: int
    # The vendor's API deletes a person: erase actions are routed to it, and the ordering
    # ledger remembers each email it was sent for a customer, to erase under every one.
    erases: bool
    # Which other actions its adapter has something to do for (routing.vendor_handles).
    handles: Callable[[Action], bool] = field(repr=False)
    # The named lists the vendor keeps people in, by its own word for them ("segments",
    # "tags"); None: it keeps none. ``Person.memberships[name]`` carries the lists to join
    # and leave there, which the mapping configuration fills (``memberships.<name>``, or
    # ``<name>_<keeps_lists>`` as in ``convertloop_segments``: docs/mapping.md).
    keeps_lists: str | None = None
    # Other vendors' lists this vendor is sent as well, to show its own way (Customer.io
    # keeps ConvertLoop's segments as attributes).
    shows_lists_of: tuple[str, ...] = ()
    # The Person fields (join, leave) that carried this vendor's lists before
    # ``Person.memberships``: messages queued and ledger snapshots stored under them still
    # parse, and mean the same (``former_list_fields``).
    former_person_fields: tuple[str, str] | None = None

    @property
    def lists_read(self) -> tuple[str, ...]:
        """The vendors whose lists this vendor's adapter is sent: its own, then those it shows."""
        return ((self.name,) if self.keeps_lists else ()) + self.shows_lists_of

    @property
    def lists_key(self) -> str | None:
        """The mapping configuration's own key for this vendor's lists, e.g. ``convertloop_segments``."""
        return f"{self.name}_{self.keeps_lists}" if self.keeps_lists else None

    @property
    def env_prefix(self) -> str:
        """Prefix of this vendor's configuration names, e.g. ``LOOPS_API_KEY``."""
        return self.name.upper()

    @property
    def configuration_names(self) -> tuple[str, ...]:
        return (*self.secret_keys, *self.base_urls)

    def module(self, name: str) -> ModuleType:
        """``client`` or ``adapter`` of this vendor, imported on first use."""
        return importlib.import_module(f"{self.package}.{name}")


class UnknownVendorError(BridgeError, ValueError):
    """A vendor name no spec declares (a ``ValueError``, as pydantic and argparse expect)."""


# In this order everywhere vendors are listed: configuration tables, bridgectl, the local stack.
BUILT_IN = ("convertloop", "loops", "customerio", "segmetrics")

_specs: dict[str, VendorSpec] = {}
_loaded = False
_lock = threading.Lock()


def _load_built_in() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            for name in BUILT_IN:
                spec = importlib.import_module(f"{__package__}.{name}.spec").SPEC
                _specs.setdefault(spec.name, spec)
            _loaded = True


def register(spec: VendorSpec) -> None:
    """Add a vendor whose package is not under ``webhook_bridge.vendors`` (or replace one)."""
    _load_built_in()
    _specs[spec.name] = spec


def unregister(name: str) -> None:
    _load_built_in()
    _specs.pop(name, None)
    _instances.pop(name, None)


def specs() -> tuple[VendorSpec, ...]:
    _load_built_in()
    return tuple(_specs.values())


def spec_for(name: str) -> VendorSpec:
    _load_built_in()
    try:
        return _specs[name]
    except KeyError:
        raise UnknownVendorError(f"unknown vendor {name!r}") from None


def former_list_fields() -> dict[str, tuple[str, str]]:
    """Person's former fields for vendors' lists → (the vendor, ``join`` or ``leave``)."""
    return {
        name: (spec.name, side)
        for spec in specs()
        if spec.former_person_fields
        for name, side in zip(spec.former_person_fields, ("join", "leave"), strict=True)
    }


_instances: dict[str, Vendor] = {}


def vendors() -> tuple[Vendor, ...]:
    """Every known vendor, in the order of BUILT_IN, then registration."""
    return tuple(Vendor(spec.name) for spec in specs())


class Vendor(str):
    """A known vendor's name: ``Vendor("loops")``; any other name raises ``UnknownVendorError``.

    A plain string on the wire and in logs, so messages and metrics keep their shape; in
    pydantic models the name is checked against the registry.
    """

    __slots__ = ()

    def __new__(cls, name: str) -> Vendor:
        # One instance per name, as with an enum: ``is`` compares vendors.
        known = _instances.get(name)
        if known is None:
            spec_for(name)
            known = _instances.setdefault(name, super().__new__(cls, name))
        return known

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def spec(self) -> VendorSpec:
        return spec_for(self)

    @property
    def env_prefix(self) -> str:
        return self.spec.env_prefix

    def __repr__(self) -> str:
        return f"Vendor({self.value!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )
