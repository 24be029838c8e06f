"""Masking of personal data before anything reaches a log line or an error message.

Vendors' error texts repeat requests, and an address in free text has no reliable end:
trailing punctuation (``jane@example.com.``), quoted local parts (``"jane doe"@x``),
hosts without a dot, URL encoding (``jane%40example.com``), unicode. So no pattern tries to
find where an address ends: every token (split at whitespace and URL delimiters) holding
``@`` or ``%40`` is masked whole (a quoted local part with spaces counts as one token), keeping only its
first character, the first character of the host and a top-level domain, to correlate.

Structures are masked by their keys: under a key that names a person's data, or a container
whose keys are free (form answers keyed by field ref, hidden fields, Stripe metadata), every
value is masked, whatever its type and however deep.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Tokens end at whitespace and at URL delimiters, so a URL keeps its route and only the
# path segment or query value holding an address is masked. A quoted local part may
# contain spaces, so it joins the token that follows it.
_TOKEN_CHAR = r"[^\s/?&=#]"
_TOKEN = re.compile(rf'{_TOKEN_CHAR}*"[^"\r\n]*"(?:@|%40){_TOKEN_CHAR}*|{_TOKEN_CHAR}+', re.IGNORECASE)
_AT = re.compile(r"@|%40", re.IGNORECASE)
_OPENING = "\"'<([{`"
_CLOSING = "\"'>)]}`.,;:!?"
_TOP_LEVEL_DOMAIN = re.compile(r"\.([^\W\d_]{2,24})$")
# A key naming a person's data holds it, in any provider's spelling: Stripe's ``customer_name``,
# ``customer_phone`` and ``customer_address``, a form's ``home_street``. So keys are matched by
# the parts they contain, except the few that name something else.
_PERSONAL_KEY_PARTS = ("name", "email", "phone", "address", "street", "postal", "zip", "birth", "tax_id")
_NOT_PERSONAL_KEYS = {"eventname", "event_name", "form_name", "product_name"}
# Too short to match as a part ("description", "shipping"): an IP address identifies a person as well as a name.
_PERSONAL_KEYS = {"ip", "ip_address"}
# Containers whose keys say nothing of what their values hold: a Typeform answer keyed by an
# opaque field ref can be a phone number or a street address.
_FREE_FORM_KEYS = {"traits", "metadata", "hidden", "answers", "custom_fields"}

# Whether the value under a key is personal, from the key and (for callers that know more) the value.
PersonalKey = Callable[[str, Any], bool]


def names_personal_data(key: str) -> bool:
    """Whether ``key`` says its value is a person's (``customer_email``, ``shipping_address``)."""
    lowered = key.lower()
    if lowered in _PERSONAL_KEYS:
        return True
    return lowered not in _NOT_PERSONAL_KEYS and any(part in lowered for part in _PERSONAL_KEY_PARTS)


def is_personal_key(key: str, value: Any = None) -> bool:
    """``names_personal_data``, or a free-keyed container whose values may be anything."""
    return names_personal_data(key) or key.lower() in _FREE_FORM_KEYS


def mask_text(text: str) -> str:
    """``text`` with every token that holds ``@`` or ``%40`` masked."""
    return _TOKEN.sub(lambda match: _mask_token(match.group()), text)


def _mask_token(token: str) -> str:
    core = token.lstrip(_OPENING)
    opening = token[: len(token) - len(core)]
    stripped = core.rstrip(_CLOSING)
    closing, core = core[len(stripped) :], stripped
    # Punctuation around a token is never part of "@" or "%40": whether it holds one is
    # decided on what is left.
    at = _AT.search(core)
    if at is None:
        return token
    local, host = core[: at.start()], core[at.end() :]
    tld = _TOP_LEVEL_DOMAIN.search(host)
    masked_host = host[:1] + "***" + (f".{tld.group(1)}" if tld else "") if host else ""
    return f"{opening}{local[:1]}***{at.group()}{masked_host}{closing}"


def mask_data(value: Any, personal: PersonalKey = is_personal_key) -> Any:
    """Mask a JSON-like structure: every value under a ``personal`` key gets ``***`` (emails
    their correlatable mask), and emails anywhere else get masked."""
    if isinstance(value, dict):
        return {
            k: mask_all(v) if isinstance(k, str) and personal(k, v) else mask_data(v, personal)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_data(v, personal) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_all(value: Any) -> Any:
    """Every value in ``value`` masked, its shape kept (keys, list lengths, nulls, booleans)."""
    if isinstance(value, dict):
        return {k: mask_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_all(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and _AT.search(value) and not any(char.isspace() for char in value):
        return mask_text(value)  # an address alone keeps the mask that correlates it
    return "***"
