"""The error responses an operation documents, each in the one error shape."""

from __future__ import annotations

from typing import Any

from leadrelay.api.schemas import ErrorOut

#: Every operation can meet these: a broken contract, or a failure of ours.
ALWAYS = (500, 503)


def errors(*statuses: int) -> dict[int, Any]:
    return {status: ErrorOut for status in (*statuses, *ALWAYS)}
