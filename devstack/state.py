"""``.devstack/state.json``: where a running ``make dev`` can be found.

``devstack.send`` reads it to find the API, the emulated AWS endpoint and the Stripe events
queue without parsing the banner. It is removed on a clean stop; a file left by a killed
stack is ignored because its pid is gone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_DIR = ".devstack"
STATE_FILE = "state.json"


def default_state_path(root: str | Path) -> Path:
    return Path(root) / STATE_DIR / STATE_FILE


def write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # readers never see half a file


def remove_state(path: Path, pid: int) -> None:
    """Remove the file if it is ours (another stack may have started since)."""
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if current.get("pid") == pid:
        path.unlink(missing_ok=True)


def read_state(path: str | Path | None = None) -> dict[str, Any] | None:
    """The running stack's state, or None when no stack is running.

    Without ``path``, looks for ``.devstack/state.json`` in the current directory and
    its parents (commands may run from a subdirectory of the repository).
    """
    candidates = [Path(path)] if path else [default_state_path(d) for d in (Path.cwd(), *Path.cwd().parents)]
    for candidate in candidates:
        try:
            state = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _alive(int(state.get("pid", 0))):
            return dict(state)
    return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:  # ProcessLookupError: gone
        return False
    return True
