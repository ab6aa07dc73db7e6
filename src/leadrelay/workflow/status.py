"""What a lead's current state means: closed, stalled, handed off, on the clock.

These read the lead and the contract and change nothing; the pages, the
workflow and (later) the API ask the same questions the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from leadrelay.contract.gates import missing
from leadrelay.contract.model import REQUIREMENTS, Contract, Stage
from leadrelay.models import Event, EventKind, Lead
from leadrelay.sla.clock import Calendar, add_hours


def stage_of(contract: Contract, lead: Lead) -> Stage | None:
    """Return the lead's stage, or None when the contract no longer has it."""
    if not contract.has_stage(lead.stage):
        return None

    return contract.stage(lead.stage)


def is_closed(contract: Contract, lead: Lead) -> bool:
    stage = stage_of(contract, lead)
    return stage is not None and not stage.is_open


def is_stalled(contract: Contract, lead: Lead, now: datetime) -> bool:
    """Return whether an open lead has been idle longer than its stage allows."""
    stage = stage_of(contract, lead)
    if stage is None or not stage.is_open or not stage.stall_after_days:
        return False

    last = lead.last_event_at or lead.created_at
    if last is None:
        return False

    return now - last > timedelta(days=stage.stall_after_days)


def handoff_at(lead: Lead) -> datetime | None:
    """Return when the lead was first handed off, or None if it never was."""
    return (
        Event.objects.filter(lead=lead, kind=EventKind.HANDOFF)
        .order_by("at", "id")
        .values_list("at", flat=True)
        .first()
    )


def is_handed_off(contract: Contract, lead: Lead) -> bool:
    """Return whether sales has the lead: handed off, owned, or past the first stage.

    Imported leads carry no handoff event; one with an owner or a later stage
    has been with sales all the same.
    """
    if lead.owner or lead.stage != contract.first_stage.key:
        return True

    return Event.objects.filter(lead=lead, kind=EventKind.HANDOFF).exists()


def contact_calendar(contract: Contract) -> Calendar | None:
    """Return the clock the first-contact SLA runs on, or None without one."""
    rule = contract.first_outreach_sla
    if rule is None:
        return None

    return Calendar.from_contract(rule.clock, contract.tz, contract.business_hours)


def contact_deadline(
    contract: Contract,
    lead: Lead,
    calendar: Calendar | None,
    handed_off: datetime | None,
) -> datetime | None:
    """Return when the first outreach is due, or None when no clock runs."""
    rule = contract.first_outreach_sla
    if rule is None or calendar is None:
        return None

    start = lead.created_at if rule.starts == "inquiry" else handed_off
    if start is None:
        return None

    return add_hours(start, rule.within_hours, calendar)


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    label: str
    #: What of this item is still missing, named for a person; empty when done.
    missing: tuple[str, ...]

    @property
    def done(self) -> bool:
        return not self.missing


def checklist(contract: Contract, lead: Lead) -> list[ChecklistItem]:
    """Return the contract's handoff checklist, each item ticked or not."""
    facts = lead.facts()
    return [
        ChecklistItem(
            name, REQUIREMENTS[name], tuple(missing(contract, (name,), facts))
        )
        for name in contract.handoff
    ]
