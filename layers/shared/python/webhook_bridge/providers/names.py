"""A provider's one free-text name as the first and last names vendors want."""

from __future__ import annotations


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """``"Zoë  Ñúñez de la Vega"`` → ``("Zoë", "Ñúñez de la Vega")``.

    Providers give one free-text name; vendors want first/last. The first word is the
    first name and the rest the last name: wrong for some cultures, but predictable.
    """
    words = (name or "").split()
    if not words:
        return None, None
    return words[0], " ".join(words[1:]) or None
