"""The decision log: one decision a week, and what its figure did after it.

A weekly meeting reads the pulse of a week and takes one decision for the
next (targeting, messaging or follow-up), optionally naming the pulse figure
it should move. The decision is stored under the week that was read, with
that figure as it stood. The next week's pulse then shows the figure for both
weeks side by side, measured the same way as of the report; it does not claim
that the decision moved it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from leadrelay.contract.model import Contract
from leadrelay.models import (
    Decision,
    DecisionKind,
    DecisionMetric,
    Event,
    Lead,
    Milestone,
)
from leadrelay.pulse.week import Week, WeekError
from leadrelay.sla.clock import Calendar, add_hours

NOTE = (
    "Figures are shown side by side; a change is not proof that the decision caused it."
)


class DecisionError(ValueError):
    """Input a decision cannot be recorded with; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class DecisionExists(DecisionError):
    """The week already has its one decision."""

    def __init__(self, existing: Decision) -> None:
        self.existing = existing
        super().__init__(
            "week",
            f"{existing.week} already has its decision ({existing.kind}, by "
            f"{existing.made_by} on {existing.made_at.date().isoformat()}: "
            f'"{existing.text}"), and a week has one decision',
        )


def allowed(choices: type[DecisionKind] | type[DecisionMetric]) -> str:
    """Return the values of a choice set with their labels, for a message."""
    return ", ".join(
        f"{value} ({label})" if label != value else str(value)
        for value, label in choices.choices
    )


def record(
    week: Week | str,
    kind: str,
    text: str,
    made_by: str,
    metric: str | None = None,
    source: str | None = None,
    replace: bool = False,
    *,
    contract: Contract | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record the decision taken on reading `week`'s pulse, with its figure then.

    A week has one decision: a second is refused with `DecisionExists`
    unless `replace` is true, in which case the first is kept in `replaced`.
    """
    the_week = _week(week)
    kind = (kind or "").strip()
    if kind not in DecisionKind.values:
        raise DecisionError(
            "kind",
            f'"{kind}" is not a kind of decision; use one of {allowed(DecisionKind)}',
        )

    text = (text or "").strip()
    if not text:
        raise DecisionError("text", "say what was decided, in a sentence")

    made_by = (made_by or "").strip()
    if not made_by:
        raise DecisionError("made_by", "say who made the decision")

    metric = _metric(metric)
    source = (source or "").strip() or None
    if source is not None and metric is None:
        raise DecisionError(
            "source",
            f"a source narrows the figure the decision should move; name that figure "
            f"as the metric too, one of {allowed(DecisionMetric)}",
        )

    snapshot: dict[str, Any] = {"value": None, "n": None}
    if metric is not None:
        snapshot = measure(metric, source, the_week, contract=contract, now=now)

    values = {
        "kind": kind,
        "text": text,
        "made_by": made_by,
        "made_at": now or timezone.now(),
        "metric": metric or "",
        "source": source,
        "value_at_decision": snapshot["value"],
        "n_at_decision": snapshot["n"],
    }
    with transaction.atomic():
        existing = (
            Decision.objects.select_for_update().filter(week=str(the_week)).first()
        )
        if existing is None:
            return _create(str(the_week), values)

        if not replace:
            raise DecisionExists(existing)

        existing.replaced = [*existing.replaced, _earlier(existing)]
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        return existing


def _create(week: str, values: dict[str, Any]) -> Decision:
    try:
        # A savepoint: two people recording the same week at once leave one
        # decision, and the second is told about the first.
        with transaction.atomic():
            return Decision.objects.create(week=week, **values)
    except IntegrityError:
        raise DecisionExists(Decision.objects.get(week=week)) from None


def _earlier(decision: Decision) -> dict[str, Any]:
    return {
        "kind": decision.kind,
        "text": decision.text,
        "made_by": decision.made_by,
        "made_at": decision.made_at.isoformat(),
        "metric": decision.metric or None,
        "source": decision.source,
        "value_at_decision": decision.value_at_decision,
        "n_at_decision": decision.n_at_decision,
    }


def _week(week: Week | str) -> Week:
    if isinstance(week, Week):
        return week

    try:
        return Week.parse(week or "")
    except WeekError as exc:
        raise DecisionError("week", str(exc)) from None


def _metric(metric: str | None) -> str | None:
    metric = (metric or "").strip() or None
    if metric is not None and metric not in DecisionMetric.values:
        raise DecisionError(
            "metric",
            f'"{metric}" is not a figure of the pulse; '
            f"use one of {allowed(DecisionMetric)}",
        )

    return metric


def _contract_in_force() -> Contract:
    from leadrelay.contract import load_file
    from leadrelay.workspace import contract_path

    return load_file(contract_path())


# -- figures -------------------------------------------------------------------


def measure(
    metric: str,
    source: str | None,
    week: Week | str,
    *,
    contract: Contract | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return a pulse figure for one week as `{"value", "n"}`, as of `now`.

    `source` restricts it to leads whose source equals it. Counts (leads_in,
    won, lost) have n equal to the count; a rate has the leads it is a share
    of as n, and value None when there are none.
    """
    name = _metric(metric)
    if name is None:
        raise DecisionError(
            "metric", f"name a figure, one of {allowed(DecisionMetric)}"
        )

    contract = contract or _contract_in_force()
    start, end = _week(week).bounds(contract.tz)
    leads = Lead.objects.filter(created_at__gte=start, created_at__lt=end)
    if source is not None:
        leads = leads.filter(source=source)

    if name == DecisionMetric.LEADS_IN:
        count = leads.count()
        return {"value": count, "n": count}

    if name == DecisionMetric.QUALIFIED_COHORT_RATE:
        return _cohort_rate(leads)

    if name == DecisionMetric.SLA_MET_RATE:
        return _sla_met_rate(contract, leads, start, end, source, now or timezone.now())

    closes = Event.objects.filter(milestone=name, at__gte=start, at__lt=end)
    if source is not None:
        closes = closes.filter(lead__source=source)
    count = closes.count()
    return {"value": count, "n": count}


def _rate(count: int, of: int) -> dict[str, Any]:
    return {"value": round(count / of, 4) if of else None, "n": of}


def _cohort_rate(leads: QuerySet[Lead]) -> dict[str, Any]:
    """Of the leads that came in, the share that reached the qualified stage or on."""
    qualified = Event.objects.filter(lead=OuterRef("pk"), milestone=Milestone.QUALIFIED)
    totals = leads.aggregate(
        of=Count("pk"), count=Count("pk", filter=Q(Exists(qualified)))
    )
    return _rate(totals["count"], totals["of"])


def _sla_met_rate(
    contract: Contract,
    leads: QuerySet[Lead],
    start: datetime,
    end: datetime,
    source: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Of the week's first-contact clocks that have an outcome, the share met in time.

    Clocks still running and leads whose source records no contact times
    have no outcome yet and are left out of both counts, as in the pulse.
    """
    rule = contract.first_outreach_sla
    if rule is None:
        return {"value": None, "n": 0}

    calendar = Calendar.from_contract(rule.clock, contract.tz, contract.business_hours)
    if rule.starts == "inquiry":
        clocks = list(
            leads.values_list("created_at", "first_outreach_at", "contact_time_known")
        )
    else:
        handoffs = Event.objects.filter(kind="handoff", at__gte=start, at__lt=end)
        if source is not None:
            handoffs = handoffs.filter(lead__source=source)
        # The last handoff in the week is the one whose clock counts.
        started = dict(handoffs.order_by("lead_id", "at").values_list("lead_id", "at"))
        rows = Lead.objects.filter(pk__in=list(started)).values_list(
            "pk", "first_outreach_at", "contact_time_known"
        )
        clocks = [(started[pk], contacted, known) for pk, contacted, known in rows]

    met = missed = 0
    for started_at, contacted_at, known in clocks:
        if started_at is None:
            continue
        deadline = add_hours(started_at, rule.within_hours, calendar)
        if contacted_at is not None:
            if contacted_at <= deadline:
                met += 1
            else:
                missed += 1
        elif known and deadline < now:
            missed += 1

    return _rate(met, met + missed)


# -- what the pulse shows ------------------------------------------------------


def as_dict(decision: Decision) -> dict[str, Any]:
    return {
        "week": decision.week,
        "kind": decision.kind,
        "kind_label": DecisionKind(decision.kind).label,
        "text": decision.text,
        "made_by": decision.made_by,
        "made_at": decision.made_at.isoformat(),
        "metric": decision.metric or None,
        "metric_label": DecisionMetric(decision.metric).label
        if decision.metric
        else None,
        "source": decision.source,
        "at_decision": (
            {"value": decision.value_at_decision, "n": decision.n_at_decision}
            if decision.metric
            else None
        ),
        "replaced": len(decision.replaced),
    }


def this_week(week: Week | str) -> dict[str, Any] | None:
    """Return the decision taken on reading this week's pulse ("for next week")."""
    decision = Decision.objects.filter(week=str(_week(week))).first()
    return as_dict(decision) if decision is not None else None


def for_pulse(
    contract: Contract, week: Week | str, now: datetime | None = None
) -> dict[str, Any] | None:
    """Return the decision made at last week's meeting and what followed.

    `before` is its figure for the week the decision was taken on, `after`
    the same figure for this week, both measured as of `now`; None without a
    metric. Returns None when last week recorded no decision.
    """
    the_week = _week(week)
    decided = the_week.previous()
    decision = Decision.objects.filter(week=str(decided)).first()
    if decision is None:
        return None

    out = as_dict(decision)
    out["before"] = out["after"] = None
    if decision.metric:
        for key, which in (("before", decided), ("after", the_week)):
            figure = measure(
                decision.metric, decision.source, which, contract=contract, now=now
            )
            out[key] = {"week": str(which), **figure}
    out["note"] = NOTE
    return out


def log() -> list[dict[str, Any]]:
    """Return every decision, newest week first."""
    return [as_dict(d) for d in Decision.objects.order_by("-week", "-made_at")]
