"""The limits intake enforces, parsed from settings. Pure: no Django here.

`settings.py` reads these at start, so that a wrong value stops the program
with the variable's name and the fix, before any request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The largest request body the API reads, in bytes.
MAX_BODY_BYTES = 64 * 1024

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+\s*)?([a-z]+?)s?\s*$")


class RateError(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    """At most `count` posts per client address in each window of `seconds`."""

    count: int
    seconds: int

    def __str__(self) -> str:
        for unit, size in reversed(_UNITS.items()):
            if self.seconds % size == 0:
                n = self.seconds // size
                return f"{self.count}/{unit}" if n == 1 else f"{self.count}/{n} {unit}s"
        return f"{self.count}/{self.seconds} seconds"


def parse_rate(name: str, text: str) -> Rate:
    """Read "30/hour", "5/minute" or "100/2 hours"; 0 as the count turns it off."""
    match = _RATE_RE.match(text.lower())
    if not match or match[3] not in _UNITS:
        raise RateError(
            f"{name}={text!r} is not a rate; write it as COUNT/UNIT, "
            f"e.g. 30/hour, with a unit among {', '.join(_UNITS)}"
        )

    times = int(match[2]) if match[2] else 1
    seconds = times * _UNITS[match[3]]
    if seconds == 0:
        raise RateError(f"{name}={text!r} has an empty window; e.g. 30/hour")

    return Rate(int(match[1]), seconds)
