"""A lead's notifications as its timeline shows them, among its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from leadrelay.notify.models import Channel, Delivery, Notification

T = TypeVar("T")


@dataclass(frozen=True)
class Mark:
    """One notification, shaped like an event for the timeline: kind, at, actor."""

    at: datetime
    title: str
    kind: str = "notification"
    actor: str = "leadrelay"
    milestone: str = ""


def marks(lead_id: int) -> list[Mark]:
    """Return the lead's notifications, newest first."""
    rows = Notification.objects.filter(lead_id=lead_id).order_by("-created_at", "-id")
    return [Mark(n.created_at, _title(n)) for n in rows]


def merge(
    entries: list[T], marks: list[T], at: Callable[[T], datetime | None]
) -> list[T]:
    """Put `marks` among `entries`, both newest first; `at` reads an item's time.

    Entries without a time keep their place; a mark goes before the first
    entry older than it.
    """
    out: list[T] = []
    pending = list(marks)
    for entry in entries:
        moment = at(entry)
        while pending and moment is not None and (at(pending[0]) or moment) > moment:
            out.append(pending.pop(0))
        out.append(entry)

    return out + pending


def _title(n: Notification) -> str:
    verb = "emailed" if n.channel == Channel.EMAIL else "posted to chat for"
    status = {
        Delivery.SENT: "sent",
        Delivery.FAILED: "failed",
        Delivery.PENDING: "not sent yet",
    }[Delivery(n.status)]
    title = f"{verb} {n.recipient} ({status}): {n.subject}"
    if n.because:
        title += f"; {n.because}"
    if n.status == Delivery.FAILED and n.error:
        title += f"; {n.error}"

    return title
