"""What has been imported into the SegMetrics sandbox."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime
from typing import Any

from devstack.sandbox.store import BoundedDict, IndexedRecords, listed

MAX_CONTACTS = 50_000
MAX_RECORDS = 50_000


def parse_when(value: Any) -> datetime | None:
    """A date as SegMetrics accepts it: "2018-10-03 11:14:32", ISO 8601, or a UNIX timestamp."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value  # milliseconds, from JS
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return parse_when(int(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # Dates without a zone are taken as UTC, which is what SegMetrics' examples imply.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(value: Any) -> str | None:
    when = parse_when(value)
    return when.isoformat() if when else None


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def id_text(value: Any) -> str | None:
    """Ids arrive as numbers or strings (249 or "249"); they are kept as strings."""
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class SegMetricsData:
    """Contacts, tags, invoices, subscriptions and products of one integration."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.contacts = IndexedRecords(MAX_CONTACTS, "key", ("contact_id", "email"))
            self.invoices: BoundedDict[str, dict[str, Any]] = BoundedDict(MAX_RECORDS)
            self.subscriptions: BoundedDict[str, dict[str, Any]] = BoundedDict(MAX_RECORDS)
            self.products: BoundedDict[str, dict[str, Any]] = BoundedDict(MAX_RECORDS)
            self.tags_by_id: BoundedDict[str, dict[str, Any]] = BoundedDict(MAX_RECORDS)
            self._keys = itertools.count(1)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            tables = ("contacts", "invoices", "subscriptions", "products", "tags_by_id")
            return listed({name.removesuffix("_by_id"): getattr(self, name) for name in tables})

    # --- contacts -----------------------------------------------------------------

    def find_contact(self, contact_id: Any = None, email: Any = None) -> dict[str, Any] | None:
        return self.contacts.find("contact_id", id_text(contact_id)) or self.contacts.find("email", email)

    def lookup(self, contact_id_or_email: str) -> dict[str, Any] | None:
        """The path parameter of "contact/<contact_id_or_email>": an id, or else an email."""
        return self.find_contact(contact_id_or_email, None) or self.find_contact(None, contact_id_or_email)

    def upsert_contact(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create or update a contact; other imports call this with only the identity to link to."""
        contact = self.find_contact(fields.get("contact_id"), fields.get("email"))
        stamp = now_iso()
        if contact is None:
            contact = {
                "key": f"c{next(self._keys)}",
                **dict.fromkeys(("contact_id", "email", "first_name", "last_name")),
                "status": "active",
                **dict.fromkeys(("date_created", "last_updated", "imported_at"), stamp),
                "custom_fields": {},
                "tags": {},
                "attribution": {},
            }
        self.contacts.unfile(contact)
        for key, value in fields.items():
            if key == "contact_id":
                contact["contact_id"] = id_text(value)
            elif key == "email":
                contact["email"] = value.strip() if isinstance(value, str) and value.strip() else contact["email"]
            elif key in ("date_created", "last_updated"):
                contact[key] = iso(value) or contact[key]
            elif key == "custom_fields":
                for name, field_value in value.items():
                    if field_value is None:
                        contact["custom_fields"].pop(name, None)  # the document's "field_to_remove": null
                    else:
                        contact["custom_fields"][name] = field_value
            elif key == "tags":
                self.add_tags(contact, value)
            elif key in ("first_name", "last_name", "status"):
                contact[key] = value
            else:
                contact["attribution"][key] = value  # utm_*, referring_url, ip_address, geo...
        if "last_updated" not in fields:
            contact["last_updated"] = stamp
        return self.contacts.save(contact)

    def delete_contact(self, contact_id_or_email: str) -> bool:
        contact = self.lookup(contact_id_or_email)
        if contact is None:
            return False
        self.contacts.remove(contact)
        return True

    # --- tags ---------------------------------------------------------------------

    def resolve_tag(self, tag: Any) -> dict[str, Any]:
        """A tag given as an id, a name or an object, as a known (or newly created) tag."""
        if isinstance(tag, dict):
            tag_id, name = id_text(tag.get("id")), tag.get("name")
        elif isinstance(tag, str) and not tag.strip().isdigit():
            tag_id, name = None, tag
        else:
            tag_id, name = id_text(tag), None
        if tag_id is None:
            # Tags named but not numbered get the name as their id, so that adding then
            # removing a tag by name refers to the same tag.
            known = next((t for t in self.tags_by_id.values() if t["name"] == name), None)
            tag_id = known["tag_id"] if known else str(name)
        existing = self.tags_by_id.get(tag_id) or {"tag_id": tag_id, "name": None}
        if name:
            existing["name"] = name
        self.tags_by_id[tag_id] = existing
        return existing

    def add_tags(self, contact: dict[str, Any], tags: list[Any]) -> None:
        for tag in tags:
            known = self.resolve_tag(tag)
            date = iso(tag.get("date")) if isinstance(tag, dict) else None
            contact["tags"][known["tag_id"]] = {
                "tag_id": known["tag_id"],
                "name": known["name"],
                "contact_id": contact["contact_id"],
                "date_created": date or now_iso(),
            }

    def remove_tags(self, contact: dict[str, Any], tags: list[Any]) -> None:
        for tag in tags:
            contact["tags"].pop(self.resolve_tag(tag)["tag_id"], None)

    # --- products -----------------------------------------------------------------

    def ensure_product(self, product_id: Any, name: Any = None) -> None:
        """ "If the product does not exist in SegMetrics, one will be created." """
        key = str(id_text(product_id))
        product = self.products.get(key) or {"id": key, "name": None}
        if name:
            product["name"] = name
        self.products[key] = product
