"""The lists the pages show: the inbox, the board, search. Each is bounded.

A workspace may hold a million imported leads, so every list is a limited,
indexed query with a total count beside it, never the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery

from leadrelay.contract import Contract
from leadrelay.contract.gates import missing_for_handoff
from leadrelay.contract.model import Stage
from leadrelay.models import Event, EventKind, Lead
from leadrelay.workflow.status import contact_calendar, contact_deadline, is_stalled

#: How many rows a list shows before it says how many more there are.
LIST_LIMIT = 50
#: How many cards a board column shows.
COLUMN_LIMIT = 25
#: How many of the newest unanswered leads the contact clock list judges.
CLOCK_WINDOW = 200


def _handoffs() -> QuerySet[Event]:
    return Event.objects.filter(lead=OuterRef("pk"), kind=EventKind.HANDOFF)


def _first_handoff() -> Subquery:
    first = _handoffs().order_by().values("lead").annotate(at=Min("at")).values("at")
    return Subquery(first[:1])


@dataclass
class Waiting:
    lead: Lead
    missing: list[str]


def waiting_for_handoff(contract: Contract) -> tuple[list[Waiting], int]:
    """Return new leads still with marketing, newest first, with what they lack."""
    leads = (
        Lead.objects.filter(stage=contract.first_stage.key, owner="")
        .exclude(Exists(_handoffs()))
        .order_by("-created_at", "-id")
    )
    rows = [
        Waiting(lead, missing_for_handoff(contract, lead.facts()))
        for lead in leads[:LIST_LIMIT]
    ]
    return rows, leads.count()


@dataclass
class Clock:
    lead: Lead
    deadline: datetime
    left: timedelta

    @property
    def overdue(self) -> bool:
        return self.left <= timedelta(0)


@dataclass
class Clocks:
    running: list[Clock] = field(default_factory=list)
    overdue: list[Clock] = field(default_factory=list)
    overdue_total: int = 0
    within_hours: float | None = None
    clock: str = ""
    starts: str = ""


def contact_clocks(contract: Contract, now: datetime) -> Clocks:
    """Return the open leads nobody has contacted yet, with their deadline.

    A deadline never comes earlier for a later start, so the newest starts
    are the ones whose clock still runs; only those are judged one by one.
    """
    rule = contract.first_outreach_sla
    calendar = contact_calendar(contract)
    if rule is None or calendar is None:
        return Clocks()

    open_keys = [s.key for s in contract.open_stages]
    leads = Lead.objects.filter(
        stage__in=open_keys, first_outreach_at__isnull=True, contact_time_known=True
    ).annotate(handoff_at=_first_handoff())
    if rule.starts == "handoff":
        leads = leads.filter(handoff_at__isnull=False).order_by("-handoff_at", "-id")
    else:
        leads = leads.filter(created_at__isnull=False).order_by("-created_at", "-id")

    out = Clocks(within_hours=rule.within_hours, clock=rule.clock, starts=rule.starts)
    judged = list(leads[:CLOCK_WINDOW])
    for lead in judged:
        deadline = contact_deadline(contract, lead, calendar, lead.handoff_at)
        if deadline is None:
            continue
        clock = Clock(lead, deadline, deadline - now)
        (out.overdue if clock.overdue else out.running).append(clock)

    out.running.sort(key=lambda c: c.deadline)
    out.overdue_total = leads.count() - len(out.running)
    out.overdue = out.overdue[:LIST_LIMIT]
    out.running = out.running[:LIST_LIMIT]
    return out


def my_leads(contract: Contract, username: str) -> tuple[list[Lead], int]:
    """Return a seller's open leads, the next action due soonest first."""
    open_keys = [s.key for s in contract.open_stages]
    leads = Lead.objects.filter(owner=username, stage__in=open_keys).order_by(
        "next_action_due", "-last_event_at", "-id"
    )
    return list(leads[:LIST_LIMIT]), leads.count()


@dataclass
class Card:
    lead: Lead
    stalled: bool
    idle_days: int | None
    #: The move form the board puts on the card, if the viewer may move leads.
    form: Any = None


@dataclass
class Column:
    stage: Stage
    count: int
    stalled: int
    cards: list[Card]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def board(contract: Contract, now: datetime, owner: str = "") -> list[Column]:
    """Return each stage's leads: the idlest first when open, the newest when closed."""
    leads = Lead.objects.all()
    if owner:
        leads = leads.filter(owner=owner)

    counts = dict(leads.values_list("stage").annotate(n=Count("id")).order_by())
    columns = []
    for stage in contract.stages:
        in_stage = leads.filter(stage=stage.key)
        stalled = 0
        if stage.is_open:
            cards = in_stage.order_by("last_event_at", "id")
            if stage.stall_after_days:
                cutoff = now - timedelta(days=stage.stall_after_days)
                stalled = in_stage.filter(last_event_at__lt=cutoff).count()
        else:
            cards = in_stage.order_by("-closed_at", "-last_event_at", "-id")
        columns.append(
            Column(
                stage,
                counts.get(stage.key, 0),
                stalled,
                [_card(contract, lead, now) for lead in cards[:COLUMN_LIMIT]],
            )
        )

    return columns


def _card(contract: Contract, lead: Lead, now: datetime) -> Card:
    last = lead.last_event_at or lead.created_at
    idle = (now - last).days if last else None
    return Card(lead, is_stalled(contract, lead, now), idle)


def search(text: str, stage: str = "") -> tuple[list[Lead], int]:
    leads = Lead.objects.all()
    text = text.strip()
    if text:
        leads = leads.filter(
            Q(name__icontains=text)
            | Q(email__icontains=text)
            | Q(company__icontains=text)
            | Q(external_id=text)
        )
    if stage:
        leads = leads.filter(stage=stage)

    leads = leads.order_by("-last_event_at", "-id")
    return list(leads[:LIST_LIMIT]), leads.count()
