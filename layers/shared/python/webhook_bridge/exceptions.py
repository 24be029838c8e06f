"""The root of every error the bridge raises on purpose.

Each part keeps its typed subtree in its own ``exceptions`` module (vendors, receiver,
signatures, providers); the few errors that belong to a single module stay there. All
derive from :class:`BridgeError`, so "ours or a bug" is one ``except`` away. Errors that
are also a ``ValueError`` or ``LookupError`` keep that base, which callers rely on.
"""


class BridgeError(Exception):
    """An error the bridge raised on purpose, as opposed to a bug or a library's failure."""
