"""SLA clocks on leads: started, met, paused, passed on and restarted.

The workflow calls these inside its own transactions, at the moment an SLA
starts (a lead comes in, or is handed off), is met (an outreach), changes
hands (a new owner: the clock runs on, escalations follow the owner), is
paused or resumed (where the contract allows it), or starts again (a lost
lead reopened gets a new clock). Deadlines come from `sla.clock`; which
moment the worker must look at a clock next comes from `plan`.

`pulse_figures` turns the clocks of a week into the pulse's "contacted
within the SLA" figures, falling back to the leads' own contact times for
those without a clock (imported history).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import dateformat

from leadrelay.contract.model import BusinessHours, Contract, Escalation, Sla
from leadrelay.models import Event, EventKind, Lead
from leadrelay.sla.clock import Calendar, add_hours, elapsed_hours
from leadrelay.sla.models import Clock

# -- arithmetic ----------------------------------------------------------------


def calendar_for(contract: Contract, kind: str) -> Calendar:
    """Return the clock of this kind, with the contract's hours and holidays."""
    return _calendar(kind, contract.timezone, contract.business_hours)


@lru_cache(maxsize=32)
def _calendar(kind: str, zone: str, hours: BusinessHours) -> Calendar:
    return Calendar.from_contract(
        kind,
        ZoneInfo(zone),
        hours,
        country=hours.holidays_country,
        subdiv=hours.holidays_region,
    )


def deadline(clock: Clock, calendar: Calendar) -> datetime:
    """Return when the clock runs out: its hours, plus the hours spent paused."""
    return add_hours(
        clock.started_at, clock.within_hours + clock.paused_hours, calendar
    )


def warning_at(clock: Clock, rule: Sla, calendar: Calendar) -> datetime | None:
    if rule.warn_before_hours is None:
        return None

    hours = clock.within_hours + clock.paused_hours - rule.warn_before_hours
    return add_hours(clock.started_at, max(hours, 0.0), calendar)


def step_at(clock: Clock, step: Escalation, calendar: Calendar) -> datetime:
    return add_hours(clock.due_at, step.after_hours, calendar)


def plan(clock: Clock, rule: Sla | None, calendar: Calendar) -> datetime | None:
    """Return when the worker must next look at the clock, or None if never.

    That is the warning while it is owed, then the deadline, then each step
    of the escalation ladder in turn. A clock whose SLA has left the
    contract is not escalated any further.
    """
    if not clock.is_running or clock.is_paused or rule is None:
        return None

    if clock.breached_at is None:
        warn = warning_at(clock, rule, calendar) if clock.warned_at is None else None
        if warn is not None and warn < clock.due_at:
            return warn
        return clock.due_at

    if clock.escalation_level < len(rule.escalate):
        return step_at(clock, rule.escalate[clock.escalation_level], calendar)

    return None


# -- the workflow's hooks --------------------------------------------------------


def lead_created(lead: Lead, contract: Contract, now: datetime) -> list[Clock]:
    """Start the clocks of the SLAs that start when a lead comes in."""
    return _start(lead, contract, "inquiry", now)


def handed_off(lead: Lead, contract: Contract, now: datetime) -> list[Clock]:
    """Start the clocks of the SLAs that start at the handoff.

    Clocks already running (since the inquiry) now alert the new owner.
    """
    owner_changed(lead)
    return _start(lead, contract, "handoff", now)


def owner_changed(lead: Lead) -> int:
    """Send the running clocks' alerts to the lead's owner from now on."""
    return _running(lead).exclude(owner=lead.owner).update(owner=lead.owner)


def outreach_logged(lead: Lead, contract: Contract, now: datetime) -> int:
    """Stop the lead's running clocks: someone has reached the person."""
    count = 0
    for clock in _running(lead).select_for_update():
        _unpause(clock, now, calendar_for(contract, clock.kind))
        clock.met_at = now
        clock.next_action_at = None
        clock.claimed_by = ""
        clock.claimed_until = None
        clock.save(update_fields=_MEETING)
        count += 1

    return count


def reopened(lead: Lead, contract: Contract, now: datetime) -> list[Clock]:
    """Give a reopened lead new clocks, ending any that were still running.

    Each SLA whose start has happened for the lead starts again: those that
    start at the inquiry always, those that start at the handoff once the
    lead has been with sales.
    """
    from leadrelay.workflow.status import is_handed_off

    _running(lead).update(
        ended_at=now, next_action_at=None, claimed_by="", claimed_until=None
    )
    with_sales = is_handed_off(contract, lead)
    rules = [
        rule
        for rule in contract.slas
        if rule.starts == "inquiry" or (rule.starts == "handoff" and with_sales)
    ]
    return [_start_one(lead, contract, rule, now, again=True) for rule in rules]


_MEETING = [
    "met_at",
    "due_at",
    "paused_at",
    "paused_hours",
    "next_action_at",
    "claimed_by",
    "claimed_until",
]


def clock_to_pause(
    lead: Lead, contract: Contract, key: str, now: datetime
) -> tuple[Clock | None, list[str]]:
    """Return the running clock a pause would stop, or what stands in the way.

    The problems are worded as what is still needed, like the workflow's.
    """
    clock, problems = _pick(lead, contract, key)
    if clock is None:
        return None, problems

    rule = contract.sla(clock.sla)
    label = rule.label if rule else clock.sla
    if rule is not None and not rule.pausable:
        problems.append(
            f"an SLA the contract lets you pause ({label} has no pausable = true)"
        )
    if clock.is_paused:
        since = _shown(clock.paused_at, contract)
        problems.append(f"a running clock ({label} is paused already, since {since})")
    elif clock.due_at <= now:
        due = _shown(clock.due_at, contract)
        problems.append(f"a clock that has not run out ({label} was due {due})")

    return (None, problems) if problems else (clock, [])


def clock_to_resume(
    lead: Lead, contract: Contract, key: str
) -> tuple[Clock | None, list[str]]:
    clock, problems = _pick(lead, contract, key, paused=True)
    if clock is None:
        return None, problems

    if not clock.is_paused:
        rule = contract.sla(clock.sla)
        label = rule.label if rule else clock.sla
        return None, [f"a paused clock ({label} is running)"]

    return clock, []


def pause(clock: Clock, now: datetime) -> None:
    clock.paused_at = now
    clock.next_action_at = None
    clock.claimed_by = ""
    clock.claimed_until = None
    clock.save(
        update_fields=["paused_at", "next_action_at", "claimed_by", "claimed_until"]
    )


def resume(clock: Clock, contract: Contract, now: datetime) -> None:
    """Start a paused clock again; its deadline moves on by the time it stood."""
    _unpause(clock, now, calendar_for(contract, clock.kind))
    clock.next_action_at = plan(
        clock, contract.sla(clock.sla), calendar_for(contract, clock.kind)
    )
    clock.save(update_fields=["paused_at", "paused_hours", "due_at", "next_action_at"])


def _start(lead: Lead, contract: Contract, event: str, now: datetime) -> list[Clock]:
    rules = [rule for rule in contract.slas if rule.starts == event]
    return [_start_one(lead, contract, rule, now) for rule in rules]


def _start_one(
    lead: Lead, contract: Contract, rule: Sla, now: datetime, again: bool = False
) -> Clock:
    from leadrelay.workflow.bulk import contract_version

    calendar = calendar_for(contract, rule.clock)
    clock = Clock(
        lead=lead,
        sla=rule.key,
        kind=rule.clock,
        within_hours=rule.within_hours,
        contract_version=contract_version(contract),
        started_at=now,
        owner=lead.owner,
    )
    clock.due_at = deadline(clock, calendar)
    if lead.first_outreach_at is not None and not again:
        # Contacted before the SLA started (history brought in by hand):
        # the clock is born met, at the time of that contact.
        clock.met_at = lead.first_outreach_at
    clock.next_action_at = plan(clock, rule, calendar)
    clock.save()
    return clock


def _running(lead: Lead) -> Any:
    return Clock.objects.filter(lead=lead, met_at__isnull=True, ended_at__isnull=True)


def _pick(
    lead: Lead, contract: Contract, key: str, paused: bool = False
) -> tuple[Clock | None, list[str]]:
    running = list(_running(lead).select_for_update().order_by("started_at", "id"))
    if key:
        if contract.sla(key) is None:
            known = ", ".join(s.key for s in contract.slas) or "none"
            return None, [f'an SLA the contract has ("{key}" is not one of {known})']
        running = [c for c in running if c.sla == key]

    if not running:
        state = "paused" if paused else "running"
        return None, [
            f"a {state} clock (the lead has none: it was met or never started)"
        ]

    if len(running) > 1:
        keys = " or ".join(c.sla for c in running)
        return None, [f"an SLA to name: {keys}"]

    return running[0], []


def _unpause(clock: Clock, now: datetime, calendar: Calendar) -> None:
    if clock.paused_at is None:
        return

    clock.paused_hours += elapsed_hours(clock.paused_at, now, calendar)
    clock.paused_at = None
    clock.due_at = deadline(clock, calendar)


def _shown(moment: datetime | None, contract: Contract) -> str:
    if moment is None:
        return "?"

    return dateformat.format(moment.astimezone(contract.tz), "D j M, H:i")


# -- the pulse -------------------------------------------------------------------


def pulse_figures(
    contract: Contract, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """Return the week's "contacted within the SLA" figures for the pulse.

    Every clock of the first SLA started in [start, end) counts once: met
    (outreach by the deadline), missed (after it, or none and the deadline
    passed) or still open. Leads that started the SLA in the week but have
    no clock there (imported history) are judged from their own contact
    time, and counted unknown where their source records none.
    """
    rule = contract.first_outreach_sla
    if rule is None:
        return {
            "key": None,
            "met": None,
            "missed": None,
            "open": None,
            "unknown": None,
            "of": 0,
        }

    figures = {"met": 0, "missed": 0, "open": 0, "unknown": 0}
    clocked: set[int] = set()
    rows = Clock.objects.filter(
        sla=rule.key, started_at__gte=start, started_at__lt=end
    ).values_list("lead_id", "due_at", "met_at", "paused_at")
    for lead_id, due_at, met_at, paused_at in rows:
        clocked.add(lead_id)
        if met_at is not None:
            figures["met" if met_at <= due_at else "missed"] += 1
        elif paused_at is None and due_at < now:
            figures["missed"] += 1
        else:
            figures["open"] += 1

    _count_unclocked(contract, rule, start, end, now, clocked, figures)
    return {
        "key": rule.key,
        "label": rule.label,
        "within_hours": rule.within_hours,
        "clock": rule.clock,
        "starts": rule.starts,
        **figures,
        "of": sum(figures.values()),
    }


def _count_unclocked(
    contract: Contract,
    rule: Sla,
    start: datetime,
    end: datetime,
    now: datetime,
    clocked: set[int],
    figures: dict[str, int],
) -> None:
    """Judge leads without a clock this week from their created and contact times."""
    calendar = calendar_for(contract, rule.clock)
    kind = EventKind.CREATED if rule.starts == "inquiry" else EventKind.HANDOFF
    starts = (
        Event.objects.filter(kind=kind, at__gte=start, at__lt=end)
        .order_by("lead_id", "at")
        .values_list("lead_id", "at")
    )
    # The at__gte filter leaves out events without a time.
    started: dict[int, datetime] = {
        lead_id: at for lead_id, at in starts if lead_id not in clocked and at
    }
    leads = Lead.objects.filter(pk__in=list(started)).values_list(
        "pk", "first_outreach_at", "contact_time_known"
    )
    for pk, contacted_at, known in leads:
        due = add_hours(started[pk], rule.within_hours, calendar)
        if contacted_at is not None:
            figures["met" if contacted_at <= due else "missed"] += 1
        elif not known:
            figures["unknown"] += 1
        else:
            figures["missed" if due < now else "open"] += 1
