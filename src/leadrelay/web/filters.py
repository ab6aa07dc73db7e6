"""Template filters for times and durations, built into every template."""

from __future__ import annotations

from datetime import timedelta

from django import template

from leadrelay.contract import Contract

register = template.Library()


@register.filter
def left(delta: timedelta | None) -> str:
    """Say how long until a deadline, or how long past it: "3 h 20 min left"."""
    if delta is None:
        return ""

    seconds = delta.total_seconds()
    span = _span(abs(seconds))
    return f"{span} left" if seconds > 0 else f"overdue by {span}"


@register.filter
def days(count: int | None) -> str:
    if count is None:
        return ""

    if count == 0:
        return "today"

    return "1 day" if count == 1 else f"{count} days"


@register.filter
def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.0f}%"


@register.filter
def stage_label(key: str, contract: Contract) -> str:
    """Name a stage as the contract does; a key it no longer has stays as it is."""
    return contract.stage(key).label if contract.has_stage(key) else key


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    d, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if d:
        return f"{d} d {h} h" if h else f"{d} d"

    if h:
        return f"{h} h {m} min" if m else f"{h} h"

    return f"{m} min" if m else "under a minute"
