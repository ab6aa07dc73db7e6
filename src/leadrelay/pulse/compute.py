"""Compute the weekly pulse from the event history.

Every figure is a count over a range of events (indexed on kind or milestone
and time), so one week costs what that week holds, not what the table holds.
The report is plain data; `render` turns it into text, Markdown or JSON.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from leadrelay.contract.model import Contract
from leadrelay.models import Event, Lead
from leadrelay.pulse import decisions
from leadrelay.pulse.week import Week
from leadrelay.sla.clocks import pulse_figures

#: How many weeks the trend shows, this one included.
TREND_WEEKS = 8

COHORT_DEFINITION = (
    "Cohort: of the leads that came in this week, how many have reached {stage} "
    "or a later stage (Won included), as of the report."
)
FLOW_DEFINITION = (
    "Flow: how many leads reached {stage} or a later stage for the first time "
    "during this week, whenever they came in."
)


def pulse(contract: Contract, week: Week, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    tz = contract.tz
    start, end = week.bounds(tz)
    as_of = min(now, end)
    qualified_label = contract.stage(contract.qualified_stage).label

    return {
        "week": str(week),
        "starts": start.isoformat(),
        "ends": end.isoformat(),
        "timezone": contract.timezone,
        "as_of": now.astimezone(tz).isoformat(),
        "contract": {"name": contract.name, "version": contract.sha256[:12]},
        "leads_in": leads_in(contract, week),
        "sla": sla(contract, start, end, now),
        "qualified": {
            "stage": contract.qualified_stage,
            "means": contract.qualified_means,
            "cohort": cohort(start, end, qualified_label),
            "flow": _milestones(start, end, "qualified"),
            "flow_definition": FLOW_DEFINITION.format(stage=qualified_label),
            "reached_at_unknown_time": Event.objects.filter(
                milestone="qualified", at__isnull=True
            ).count(),
        },
        "won": _milestones(start, end, "won"),
        "lost": lost(contract, start, end),
        "objections": objections(contract, start, end),
        "stalled": stalled(contract, as_of),
        "last_decision": decisions.for_pulse(contract, week, now=now),
        "decision": decisions.this_week(week),
    }


def _created(start: datetime, end: datetime) -> Any:
    return Event.objects.filter(kind="created", at__gte=start, at__lt=end)


def _by_source(start: datetime, end: datetime) -> Counter[str | None]:
    rows = _created(start, end).values("lead__source").annotate(n=Count("id"))
    return Counter({row["lead__source"]: row["n"] for row in rows})


def leads_in(contract: Contract, week: Week) -> dict[str, Any]:
    tz = contract.tz
    weeks = [week.previous(i) for i in range(TREND_WEEKS - 1, -1, -1)]
    counts = [_by_source(*w.bounds(tz)) for w in weeks]
    this, previous = counts[-1], counts[-2]
    sources = sorted(
        set(this) | set(previous),
        key=lambda s: (-this.get(s, 0), -previous.get(s, 0), s is None, s or ""),
    )
    by_source = [
        {
            "source": source,
            "count": this.get(source, 0),
            "previous": previous.get(source, 0),
            "trend": [c.get(source, 0) for c in counts],
        }
        for source in sources
    ]
    return {
        "total": sum(this.values()),
        "previous": sum(previous.values()),
        "by_source": by_source,
        "trend": [{"week": str(w), "count": sum(c.values())} for w, c in zip(weeks, counts, strict=True)],
    }


def sla(contract: Contract, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Return the week's "contacted within the SLA" figures, from the SLA clocks.

    Leads without a clock (imported history) are judged from their own
    contact times; see `sla.clocks.pulse_figures`.
    """
    return pulse_figures(contract, start, end, now)


def cohort(start: datetime, end: datetime, stage_label: str) -> dict[str, Any]:
    reached = Event.objects.filter(lead=OuterRef("lead_id"), milestone="qualified")
    totals = _created(start, end).aggregate(
        of=Count("id"), count=Count("id", filter=Q(Exists(reached)))
    )
    of = totals["of"]
    count = totals["count"]
    return {
        "count": count,
        "of": of,
        "rate": round(count / of, 4) if of else None,
        "definition": COHORT_DEFINITION.format(stage=stage_label),
    }


def _milestones(start: datetime, end: datetime, milestone: str) -> int:
    return Event.objects.filter(milestone=milestone, at__gte=start, at__lt=end).count()


def lost(contract: Contract, start: datetime, end: datetime) -> dict[str, Any]:
    # The reason recorded with the loss, not the lead's current one: a lead
    # reopened since has none, but its loss that week still had one.
    rows = (
        Event.objects.filter(milestone="lost", at__gte=start, at__lt=end)
        .values("data__reason")
        .annotate(n=Count("id"))
    )
    reasons: Counter[str | None] = Counter()
    for row in rows:
        reasons[row["data__reason"] or None] += row["n"]
    by_reason = [
        {
            "reason": key,
            "label": contract.loss_reason_label(key) if key else "no reason recorded",
            "count": n,
        }
        for key, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    ]
    return {"total": sum(reasons.values()), "by_reason": by_reason}


def objections(contract: Contract, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = (
        Event.objects.filter(kind="objection", at__gte=start, at__lt=end)
        .values("data__label")
        .annotate(n=Count("id"))
    )
    counted = sorted(((row["data__label"], row["n"]) for row in rows), key=lambda kv: (-kv[1], str(kv[0])))
    return [
        {"label": label, "text": contract.objection_label(str(label)), "count": n}
        for label, n in counted
    ]


def stalled(contract: Contract, as_of: datetime) -> dict[str, Any]:
    """Count open leads with no event for longer than their stage allows, as of `as_of`.

    Leads with no event after `as_of` are judged from their current row; the
    few with later events are rebuilt from their history before `as_of`.
    """
    thresholds = {
        s.key: timedelta(days=s.stall_after_days)
        for s in contract.open_stages
        if s.stall_after_days
    }
    open_keys = [s.key for s in contract.open_stages]
    counts: Counter[str] = Counter()
    examples: list[str] = []

    settled = Lead.objects.filter(
        Q(created_at__lt=as_of), Q(last_event_at__lte=as_of) | Q(last_event_at__isnull=True)
    )
    for key, limit in thresholds.items():
        matches = settled.filter(stage=key, last_event_at__lt=as_of - limit)
        counts[key] = matches.count()
        if len(examples) < 10:
            examples += list(
                matches.order_by("last_event_at").values_list("external_id", flat=True)[: 10 - len(examples)]
            )

    later = Lead.objects.filter(
        stage__in=_stages_present(), created_at__lt=as_of, last_event_at__gt=as_of
    ).values_list("pk", flat=True)
    for lead_ids in _chunks(list(later), 2000):
        history = (
            Event.objects.filter(lead_id__in=lead_ids, at__lt=as_of)
            .order_by("lead_id", "at", "id")
            .values_list("lead_id", "kind", "stage", "at")
        )
        state: dict[int, tuple[str, datetime]] = {}
        for lead_id, kind, stage, at in history:
            current = state.get(lead_id, (stage, at))[0]
            if kind in ("created", "stage", "won", "lost", "reopened"):
                current = stage
            state[lead_id] = (current, at)
        for stage, last in state.values():
            limit = thresholds.get(stage)
            if stage in open_keys and limit is not None and last < as_of - limit:
                counts[stage] += 1

    by_stage = [
        {
            "stage": key,
            "label": contract.stage(key).label,
            "threshold_days": thresholds[key].total_seconds() / 86400,
            "count": counts[key],
        }
        for key in open_keys
        if key in thresholds
    ]
    return {
        "as_of": as_of.isoformat(),
        "total": sum(counts.values()),
        "by_stage": by_stage,
        "examples": [e for e in examples if e],
    }


def _stages_present() -> list[str]:
    """Return every stage some lead is in, one index probe per stage.

    Naming the stages lets the (stage, last_event_at, created_at) index find
    the leads active after a moment: SQLite does not skip through an index's
    first column by itself unless the database has been analysed.
    """
    stages: list[str] = []
    leads = Lead.objects.all()
    while True:
        if stages:
            leads = Lead.objects.filter(stage__gt=stages[-1])
        found = leads.aggregate(first=Min("stage"))["first"]
        if found is None:
            return stages
        stages.append(found)


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def latest_week_with_leads(contract: Contract) -> Week | None:
    """Return the last complete week of arrivals in the data, for reports on an export."""
    latest = Lead.objects.exclude(created_at__isnull=True).order_by("-created_at").values_list(
        "created_at", flat=True
    ).first()
    if latest is None:
        return None

    local = latest.astimezone(contract.tz).date()
    week = Week.containing(local)
    return week if local.isoweekday() == 7 else week.previous()
