"""The words of a clock's warning, breach and escalation, for email and chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from leadrelay.contract.model import Contract, Sla
from leadrelay.models import Clock, Lead, NotificationKind
from leadrelay.notify.recipients import Route
from leadrelay.sla.clock import Calendar, elapsed_hours

#: Whom a ladder step names, as a message says it.
ROLE_NAMES = {"owner": "owner", "team_lead": "team lead", "admins": "admins"}


@dataclass
class Message:
    subject: str
    text: str
    #: Slack-compatible blocks for the chat version.
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def chat_payload(self, mention: list[str]) -> dict[str, Any]:
        who = ", ".join(mention)
        lead_in = f"{who}: " if who else ""
        return {"text": f"{lead_in}{self.subject}", "blocks": self.blocks}


def when(moment: datetime, contract: Contract) -> str:
    """Return a moment as "Mon 30 Mar 2026, 15:00 CEST", in the contract's zone."""
    local = moment.astimezone(contract.tz)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} " + (
        f"{local:%Y, %H:%M} {local.tzname()}"
    )


# Written out rather than strftime's %a and %b, which follow the C locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def hours(amount: float, kind: str) -> str:
    shown = f"{amount:.1f}".rstrip("0").rstrip(".")
    noun = "hour" if shown == "1" else "hours"
    return f"{shown} business {noun}" if kind == "business" else f"{shown} {noun}"


def lead_link(lead: Lead) -> str:
    base = settings.NOTIFY_BASE_URL
    return f"{base}{reverse('lead', args=[lead.pk])}" if base else ""


def clock_message(
    kind: str,
    lead: Lead,
    clock: Clock,
    rule: Sla,
    route: Route,
    contract: Contract,
    calendar: Calendar,
    now: datetime,
    to: str,
) -> Message:
    """Write the message for one step on one clock.

    `kind` is a NotificationKind value; `to` the ladder's "owner",
    "team_lead" or "admins" (for a warning, "owner").
    """
    name = _lead_name(lead)
    started = "the inquiry" if rule.starts == "inquiry" else "the handoff"
    due = when(clock.due_at, contract)
    owner = clock.owner or "nobody yet"
    if kind == NotificationKind.WARNING:
        left = hours(elapsed_hours(now, clock.due_at, calendar), clock.kind)
        subject = f"Due soon: {rule.label} for {name}"
        first = f"{rule.label} for {name} is due {due}, in {left}."
    elif kind == NotificationKind.BREACH:
        allowed = hours(clock.within_hours, clock.kind)
        subject = f"SLA breached: {rule.label} for {name}"
        first = (
            f"{rule.label} for {name} was due {due}, {allowed} after {started} "
            f"on {when(clock.started_at, contract)}."
        )
    else:
        late = hours(elapsed_hours(clock.due_at, now, calendar), clock.kind)
        subject = f"Escalated to the {ROLE_NAMES[to]}: {rule.label} for {name}"
        first = f"{rule.label} for {name} is {late} overdue (it was due {due})."

    lines = [first, "No outreach has been logged yet.", "", f"Owner: {owner}"]
    if route.because:
        lines.append(f"Sent to {', '.join(route.names) or 'nobody'}: {route.because}.")
    link = lead_link(lead)
    if link:
        lines.append(f"Open the lead: {link}")
    lines += ["", "Logging an outreach on the lead stops the clock."]
    text = "\n".join(lines) + "\n"
    return Message(subject, text, _blocks(subject, lines, link))


def _lead_name(lead: Lead) -> str:
    name = str(lead)
    return f"{name} ({lead.company})" if lead.company and lead.company != name else name


def escape(text: str) -> str:
    """Escape what Slack's mrkdwn reads as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _blocks(subject: str, lines: list[str], link: str) -> list[dict[str, Any]]:
    body = "\n".join(
        escape(line) for line in lines if line and not line.startswith("Open")
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(subject)}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
    ]
    if link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the lead>"}],
            }
        )

    return blocks
