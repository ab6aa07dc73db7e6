"""A lead's events told as a timeline: who did what, when, and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import dateformat, timezone

from leadrelay.contract import Contract
from leadrelay.models import Event, EventKind, Milestone
from leadrelay.notify import timeline as notified
from leadrelay.workflow.ops import OUTREACH_CHANNELS

#: How changed fields are named in the timeline.
FIELD_LABELS = {
    "email": "email",
    "phone": "phone",
    "name": "name",
    "company": "company",
    "source": "source",
    "campaign": "campaign",
    "industry": "industry",
    "company_size": "company size",
    "employees": "employees",
    "location": "location",
    "intent": "intent",
    "owner": "owner",
    "next_action": "next action",
    "next_action_owner": "next action owner",
    "next_action_due": "next action due",
    "stage": "stage",
    "first_outreach_at": "first outreach",
    "closed_at": "closed",
    "loss_reason": "loss reason",
    "loss_note": "loss note",
}

#: Bookkeeping fields that the title already says, or that mean nothing to a reader.
_UNSHOWN = {"reached_rank", "stage", "closed_at", "first_outreach_at"}


@dataclass
class Entry:
    event: Event
    title: str
    note: str = ""
    milestone: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def entries(events: list[Event], contract: Contract) -> list[Entry]:
    found = [_entry(event, contract) for event in events]
    leads = {event.lead_id for event in events}
    if len(leads) != 1:
        return found

    # The lead's notifications (SLA alerts) are not events; they are shown
    # among them, as leadrelay's own entries.
    sent = [Entry(mark, mark.title) for mark in notified.marks(leads.pop())]  # type: ignore[arg-type]
    return notified.merge(found, sent, lambda entry: entry.event.at)


def _entry(event: Event, contract: Contract) -> Entry:
    data: dict[str, Any] = event.data or {}
    entry = Entry(event, _title(event, data, contract))
    if event.kind in (EventKind.OUTREACH, EventKind.OBJECTION, EventKind.LOST):
        entry.note = str(data.get("note") or "")
    if event.milestone:
        entry.milestone = Milestone(event.milestone).label

    for name, change in (data.get("changes") or {}).items():
        if name in _UNSHOWN or name not in FIELD_LABELS:
            continue
        if event.kind == EventKind.LOST and name in ("loss_reason", "loss_note"):
            continue
        if event.kind == EventKind.OWNER and name == "owner":
            continue
        label = FIELD_LABELS[name]
        entry.changes.append((label, _shown(change["before"]), _shown(change["after"])))

    return entry


def _stage_label(contract: Contract, key: str | None) -> str:
    if key and contract.has_stage(key):
        return contract.stage(key).label

    return key or "?"


def _title(event: Event, data: dict[str, Any], contract: Contract) -> str:
    kind = event.kind
    owner = ((data.get("changes") or {}).get("owner") or {}).get("after")
    if kind == EventKind.CREATED:
        source = data.get("source")
        return f"added the lead (source: {source})" if source else "added the lead"

    if kind == EventKind.UPDATED:
        if data.get("clock") in ("paused", "resumed"):
            rule = contract.sla(str(data.get("sla")))
            name = rule.label if rule else data.get("sla")
            note = f": {data['note']}" if data.get("note") else ""
            return f"{data['clock']} the {name} clock{note}"
        return "edited the lead"

    if kind == EventKind.HANDOFF:
        team = f" ({data['team']})" if data.get("team") else ""
        if data.get("assignment") == "round_robin":
            return f"handed it off to sales{team}: {owner}'s turn in the rotation"
        if owner:
            return f"handed it off to sales{team}, owner {owner}"
        return f"handed it off to sales{team}, for the team to claim"

    if kind == EventKind.OWNER:
        if data.get("how") == "claimed":
            return "claimed it"
        return f"gave it to {owner}"

    if kind == EventKind.OUTREACH:
        channel = OUTREACH_CHANNELS.get(str(data.get("channel")), "other").lower()
        if data.get("first"):
            return f"logged the first outreach ({channel}): the contact clock stopped"
        return f"logged outreach: {channel}"

    if kind == EventKind.STAGE:
        source = _stage_label(contract, data.get("from"))
        target = _stage_label(contract, data.get("to"))
        won = contract.won_stage
        if won is not None and data.get("to") == won.key:
            # The extra event close won writes for a lead never qualified before.
            qualified = _stage_label(contract, contract.qualified_stage)
            return f"counted as {qualified}: it went from {source} straight to {target}"
        return f"moved it from {source} to {target}"

    if kind == EventKind.OBJECTION:
        return f"heard an objection: {contract.objection_label(str(data.get('label')))}"

    if kind == EventKind.NEXT_ACTION:
        return "set the next action"

    if kind == EventKind.WON:
        return "closed it won"

    if kind == EventKind.LOST:
        return f"closed it lost: {contract.loss_reason_label(str(data.get('reason')))}"

    if kind == EventKind.REOPENED:
        return f"reopened it, back in {_stage_label(contract, data.get('to'))}"

    return EventKind(kind).label if kind in EventKind.values else kind


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"

    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return dateformat.format(timezone.localtime(moment), "D j M Y, H:i")

    return str(value)
