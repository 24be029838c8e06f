"""A person whose every detail is distinctive, for tests that look for personal data where none may be."""

from __future__ import annotations

import json
from typing import Any

EMAIL = "leak.canary+x@example.com"
NAME = "Canary Person"
PHONE = "+15555550199"
STREET = "42 Canary Street"
COMPANY = "Sekret-Meta Inc"
# What may appear nowhere: the email's local part, each detail, and what is left of them cut short.
TELLTALES = ("leak.canary", "Canary", "5550199", "Sekret-Meta")


def telltales_in(*outputs: Any) -> list[str]:
    """The telltales found in ``outputs`` (text, or anything JSON can show); empty when none leaked."""
    text = "\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False, default=str) for o in outputs)
    return [telltale for telltale in TELLTALES if telltale.casefold() in text.casefold()]


def typeform_response(event_id: str = "01KD3Q6M2X4VJ8T5R9N0PZ1WD") -> dict[str, Any]:
    """A form response whose answers are keyed by opaque field refs, as Typeform generates them."""
    answers = [
        {"type": "text", "text": NAME, "field": {"id": "f1", "ref": "8f14e45fceea", "type": "short_text"}},
        {"type": "email", "email": EMAIL, "field": {"id": "f2", "ref": "email", "type": "email"}},
        {
            "type": "phone_number",
            "phone_number": PHONE,
            "field": {"id": "f3", "ref": "c9f0f895fb98", "type": "phone_number"},
        },
        {
            "type": "text",
            "text": f"{STREET}, Canaryville",
            "field": {"id": "f4", "ref": "45c48cce2e2d", "type": "long_text"},
        },
    ]
    return {
        "event_id": event_id,
        "event_type": "form_response",
        "form_response": {
            "form_id": "Vq2mXo9L",
            "token": "01KD3PZ8W6C1F4H3K7N2Q5R8T",
            "submitted_at": "2026-11-14T09:15:41Z",
            "hidden": {"company": COMPANY},
            "definition": {"id": "Vq2mXo9L", "title": "Onboarding", "fields": []},
            "answers": answers,
        },
    }


def stripe_customer_created(
    event_id: str = "evt_1PersonalDataTest", customer_id: str = "cus_PersonalDataTest"
) -> dict[str, Any]:
    """A Stripe customer with every personal field Stripe has: address, shipping, phone, metadata."""
    address = {"line1": STREET, "city": "Canaryville", "postal_code": "99999", "country": "US"}
    customer = {
        "id": customer_id,
        "object": "customer",
        "email": EMAIL,
        "name": NAME,
        "phone": PHONE,
        "address": address,
        "shipping": {"name": NAME, "phone": PHONE, "address": address},
        "metadata": {"company": COMPANY},
        "created": 1796000000,
    }
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": 1796000000,
        "type": "customer.created",
        "data": {"object": customer},
    }
