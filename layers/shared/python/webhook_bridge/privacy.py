"""Masking of personal data before anything reaches a log line or an error message.

Vendors' error texts repeat requests, and an address in free text has no reliable end:
trailing punctuation (``jane@example.com.``), quoted local parts (``"jane doe"@x``),
hosts without a dot, URL encoding (``jane%40example.com``), unicode. So no pattern tries to
find where an address ends: every token (split at whitespace and URL delimiters) holding
``@`` or ``%40`` is masked whole (a quoted local part with spaces counts as one token), keeping only its
first character, the first character of the host and a top-level domain, to correlate.
"""

from __future__ import annotations

import re
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
_PERSONAL_KEYS = {
    "email",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "name",
    "phone",
    "phone_number",
    "address",
    # attribution carried on actions: an IP address identifies a person as well as a name
    "ip",
    "ip_address",
}


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


def mask_data(value: Any) -> Any:
    """Mask a JSON-like structure: personal keys get ``***``, emails anywhere get masked."""
    if isinstance(value, dict):
        return {
            k: (
                "***"
                if isinstance(k, str) and k.lower() in _PERSONAL_KEYS and isinstance(v, str) and "@" not in v
                else mask_data(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_data(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
