"""A one-line progress bar on stderr for bridgectl's long commands (redrawn only on a terminal)."""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        if self._live:
            filled = WIDTH * self.done // self.total if self.total else WIDTH
            bar = "#" * filled + "." * (WIDTH - filled)
            self._stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
            self._stream.flush()

    def finish(self) -> None:
        if self._live:
            self._stream.write("\n")
        self._stream.write(f"{self.label}: {self.done}/{self.total}\n")
        self._stream.flush()
