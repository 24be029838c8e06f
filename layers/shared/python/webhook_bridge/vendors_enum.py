"""The four destinations, named once for queues, configuration and metrics."""

from enum import StrEnum


class Vendor(StrEnum):
    CONVERTLOOP = "convertloop"
    LOOPS = "loops"
    CUSTOMERIO = "customerio"
    SEGMETRICS = "segmetrics"

    @property
    def env_prefix(self) -> str:
        """Prefix of this vendor's configuration names, e.g. ``LOOPS_API_KEY``."""
        return self.value.upper()
