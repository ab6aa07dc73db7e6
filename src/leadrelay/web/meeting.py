"""The weekly meeting: the pulse page's figures, meeting mode, and the leads behind each.

`pulse_context()` builds what the pulse page and meeting mode both show: the
report, its charts, a link from each figure to its leads, and the decision
form. `/pulse/leads/` lists the leads behind one figure, chosen the same way
the pulse counts them, so the list's count is the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from leadrelay.contract import Contract
from leadrelay.models import Event, Lead
from leadrelay.pulse import charts
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week, WeekError
from leadrelay.sla.clock import add_hours
from leadrelay.sla.clocks import calendar_for
from leadrelay.sla.models import Clock
from leadrelay.web.base import contract_context, page
from leadrelay.web.queries import LIST_LIMIT

#: How many objections and loss reasons the pulse puts in front of the meeting.
TOP_OBJECTIONS = 2
TOP_REASONS = 3


def read_week(text: str, contract: Contract, now: datetime) -> tuple[Week, str]:
    """Return the week asked for, or the last complete one and why not."""
    fallback = Week.last_complete(now, contract.tz)
    text = (text or "").strip()
    if not text:
        return fallback, ""

    try:
        return Week.parse(text), ""
    except WeekError as exc:
        return fallback, str(exc)


# -- the leads behind a figure -------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    #: What the list holds, to finish "Leads behind the figure: ...".
    says: str


FIGURES: dict[str, Figure] = {
    f.key: f
    for f in (
        Figure("leads_in", "came in this week"),
        Figure("sla_met", "contacted within the SLA"),
        Figure("sla_missed", "missed the SLA"),
        Figure("sla_open", "SLA clock still running"),
        Figure("sla_unknown", "SLA outcome unknown (no contact times)"),
        Figure("cohort_qualified", "came in this week and reached Qualified"),
        Figure("flow_qualified", "first reached Qualified this week"),
        Figure("reached", "came in this week and reached a stage"),
        Figure("won", "closed won this week"),
        Figure("lost", "closed lost this week"),
        Figure("stalled", "stalled as of the week's end"),
    )
}


class FigureError(ValueError):
    pass


#: Marks a parameter that was not given, as distinct from one given empty.
ANY = object()


def figure_leads(
    contract: Contract,
    week: Week,
    figure: str,
    now: datetime,
    *,
    source: Any = ANY,
    stage: str = "",
    reason: Any = ANY,
) -> QuerySet[Lead]:
    """Return the leads the pulse of `week` counts in one of its figures.

    `source` narrows leads_in to one source (None: leads with none); `stage`
    names the stage for "reached" and narrows "stalled"; `reason` narrows
    "lost" to one loss reason (None: losses with none recorded).
    """
    if figure not in FIGURES:
        raise FigureError(
            f'"{figure}" is not a figure of the pulse; use one of {", ".join(FIGURES)}'
        )

    start, end = week.bounds(contract.tz)
    created = Event.objects.filter(kind="created", at__gte=start, at__lt=end)
    leads = Lead.objects.all()

    if figure == "leads_in":
        leads = leads.filter(pk__in=created.values("lead_id"))
        if source is not ANY:
            leads = (
                leads.filter(source=source)
                if source
                else leads.filter(source__isnull=True)
            )
        return leads

    if figure.startswith("sla_"):
        split = sla_split(contract, start, end, now)
        return leads.filter(pk__in=split[figure.removeprefix("sla_")])

    if figure == "cohort_qualified":
        qualified = Event.objects.filter(lead=OuterRef("pk"), milestone="qualified")
        return leads.filter(pk__in=created.values("lead_id")).filter(Exists(qualified))

    if figure == "reached":
        if not contract.has_stage(stage):
            raise FigureError(f'"{stage}" is not a stage of the contract')
        cohort = leads.filter(pk__in=created.values("lead_id"))
        return cohort.filter(charts.reached(contract, stage, lead="pk"))

    if figure == "stalled":
        return leads.filter(stalled(contract, min(now, end), stage))

    milestone = {"flow_qualified": "qualified", "won": "won", "lost": "lost"}[figure]
    events = Event.objects.filter(milestone=milestone, at__gte=start, at__lt=end)
    if figure == "lost" and reason is not ANY:
        events = (
            events.filter(data__reason=reason)
            if reason
            else events.filter(
                Q(data__reason__isnull=True) | Q(data__reason=None) | Q(data__reason="")
            )
        )
    return leads.filter(pk__in=events.values("lead_id"))


def sla_split(
    contract: Contract, start: datetime, end: datetime, now: datetime
) -> dict[str, list[int]]:
    """Return the ids of the week's leads in each SLA outcome, as the pulse judges them.

    The same rules as `sla.clocks.pulse_figures`: each clock of the first SLA
    started in the week, then the leads that started it with no clock
    (imported history) judged from their own contact times.
    """
    out: dict[str, list[int]] = {"met": [], "missed": [], "open": [], "unknown": []}
    rule = contract.first_outreach_sla
    if rule is None:
        return out

    clocks = Clock.objects.filter(
        sla=rule.key, started_at__gte=start, started_at__lt=end
    ).values_list("lead_id", "due_at", "met_at", "paused_at")
    clocked: set[int] = set()
    for lead_id, due_at, met_at, paused_at in clocks:
        clocked.add(lead_id)
        if met_at is not None:
            out["met" if met_at <= due_at else "missed"].append(lead_id)
        elif paused_at is None and due_at < now:
            out["missed"].append(lead_id)
        else:
            out["open"].append(lead_id)

    calendar = calendar_for(contract, rule.clock)
    kind = "created" if rule.starts == "inquiry" else "handoff"
    starts = (
        Event.objects.filter(kind=kind, at__gte=start, at__lt=end)
        .order_by("lead_id", "at")
        .values_list("lead_id", "at")
    )
    # Ordered by time, so that a lead's last start in the week is the one kept.
    started = {pk: at for pk, at in starts if pk not in clocked and at is not None}
    rows = Lead.objects.filter(pk__in=list(started)).values_list(
        "pk", "first_outreach_at", "contact_time_known"
    )
    for pk, contacted_at, known in rows:
        due = add_hours(started[pk], rule.within_hours, calendar)
        if contacted_at is not None:
            outcome = "met" if contacted_at <= due else "missed"
        elif not known:
            outcome = "unknown"
        else:
            outcome = "missed" if due < now else "open"
        out[outcome].append(pk)
    return out


def stalled(contract: Contract, as_of: datetime, stage: str = "") -> Q:
    """Match the open leads idle past their stage's limit as of `as_of`.

    Judged as the pulse does: from the lead's row when nothing happened to it
    after `as_of` (a condition on the row, however many), from its history
    before then otherwise (by id: the leads touched since).
    """
    limits = {
        s.key: timedelta(days=s.stall_after_days)
        for s in contract.open_stages
        if s.stall_after_days and (not stage or s.key == stage)
    }
    settled = Q(created_at__lt=as_of) & (
        Q(last_event_at__lte=as_of) | Q(last_event_at__isnull=True)
    )
    idle = Q(pk__in=[])
    for key, limit in limits.items():
        idle |= settled & Q(stage=key, last_event_at__lt=as_of - limit)

    later = Lead.objects.filter(created_at__lt=as_of, last_event_at__gt=as_of)
    history = (
        Event.objects.filter(lead__in=later, at__lt=as_of)
        .order_by("lead_id", "at", "id")
        .values_list("lead_id", "kind", "stage", "at")
    )
    state: dict[int, tuple[str, datetime]] = {}
    for lead_id, kind, key, at in history.iterator(chunk_size=10_000):
        if at is None:
            continue
        current = state.get(lead_id, (key, at))[0]
        if kind in ("created", "stage", "won", "lost", "reopened"):
            current = key
        state[lead_id] = (current, at)
    rebuilt = [
        lead_id
        for lead_id, (key, last) in state.items()
        if key in limits and last < as_of - limits[key]
    ]
    return idle | Q(pk__in=rebuilt)


def figure_href(week: Week | str, figure: str, **params: str | None) -> str:
    """Link to the leads behind a figure; a param given as None is sent empty."""
    query = {"week": str(week), "figure": figure}
    query.update({k: "" if v is None else v for k, v in params.items()})
    return f"{reverse('pulse_leads')}?{urlencode(query)}"


def notes_href(kind: str, key: str | None, week: Week, contract: Contract) -> str:
    start, end = week.bounds(contract.tz)
    query = {
        "label" if kind == "objection" else "reason": key or "",
        "since": start.date().isoformat(),
        "until": (end.date() - timedelta(days=1)).isoformat(),
    }
    return f"{reverse('feedback_notes')}?{urlencode(query)}"


def _figure_params(request: HttpRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"stage": request.GET.get("stage", "")}
    for name in ("source", "reason"):
        if name in request.GET:
            params[name] = request.GET[name] or None
    return params


@page()
def pulse_leads(request: HttpRequest, contract: Contract) -> HttpResponse:
    now = timezone.now()
    week, error = read_week(request.GET.get("week", ""), contract, now)
    figure = request.GET.get("figure", "")
    params = _figure_params(request)
    found: list[Lead] = []
    total = 0
    if not error:
        try:
            leads = figure_leads(contract, week, figure, now, **params)
        except FigureError as exc:
            error = str(exc)
        else:
            found = list(leads.order_by("-last_event_at", "-id")[:LIST_LIMIT])
            total = leads.count()

    context = {
        **contract_context(contract),
        "week": week,
        "figure": FIGURES.get(figure),
        "narrowed": _narrowed(contract, figure, params),
        "leads": found,
        "total": total,
        "error": error,
        "back": f"{reverse('pulse')}?{urlencode({'week': str(week)})}",
    }
    status = 400 if error else 200
    return render(request, "leadrelay/pulse_leads.html", context, status=status)


def _narrowed(contract: Contract, figure: str, params: dict[str, Any]) -> str:
    """Say what narrows the list beyond its figure: "source web_form", say."""
    parts = []
    if "source" in params and figure == "leads_in":
        parts.append(f"source {params['source'] or '(no source)'}")
    if params.get("stage") and contract.has_stage(params["stage"]):
        parts.append(f"stage {contract.stage(params['stage']).label}")
    if "reason" in params and figure == "lost":
        key = params["reason"]
        parts.append(
            f"reason {contract.loss_reason_label(key) if key else 'none recorded'}"
        )
    return ", ".join(parts)


# -- the pulse page and meeting mode -------------------------------------------


def pulse_context(
    contract: Contract,
    week: Week,
    *,
    view: str = "pulse",
    form: Any = None,
    refusal: str = "",
) -> dict[str, Any]:
    """Return what the pulse page and meeting mode show for `week`."""
    from leadrelay.web.decisions import DecisionForm, figure_text

    now = timezone.now()
    report = pulse(contract, week, now)
    report["cohort_funnel"] = charts.cohort_funnel(contract, week)
    leads_in = report["leads_in"]

    def href(figure: str, **params: str | None) -> str:
        return figure_href(week, figure, **params)

    last = report["last_decision"]
    if last is not None:
        last = {
            **last,
            "before_text": figure_text(last["metric"], last["before"]),
            "after_text": figure_text(last["metric"], last["after"]),
            "in_progress": week.bounds(contract.tz)[1] > now,
        }

    decision_form = form or DecisionForm(
        contract=contract,
        initial={"week": str(week), "view": view},
        sources=[row["source"] for row in leads_in["by_source"] if row["source"]],
    )
    specs = charts.chart_specs(report)
    return {
        **contract_context(contract),
        "report": report,
        "week": week,
        "previous": week.previous(),
        "next": week.next(),
        # The week's last day: report["ends"] is the midnight after it.
        "sunday": week.monday + timedelta(days=6),
        "specs": specs,
        # By id, for the templates: "leads-trend" is chart.leads_trend there.
        "chart": {spec["id"].replace("-", "_"): spec for spec in specs},
        "sources": [
            {
                **row,
                "bars": _heights(row["trend"]),
                "href": href("leads_in", source=row["source"]),
            }
            for row in leads_in["by_source"]
        ],
        "links": {
            "leads_in": href("leads_in"),
            "cohort_qualified": href("cohort_qualified"),
            "flow_qualified": href("flow_qualified"),
            "won": href("won"),
            "lost": href("lost"),
            "stalled": href("stalled"),
            **{
                f"sla_{k}": href(f"sla_{k}")
                for k in ("met", "missed", "open", "unknown")
            },
        },
        "funnel": [
            {**row, "href": href("reached", stage=row["stage"])}
            for row in report["cohort_funnel"]["stages"]
        ],
        "stalled": [
            {**row, "href": href("stalled", stage=row["stage"])}
            for row in report["stalled"]["by_stage"]
        ],
        "reasons": [
            {
                **row,
                "href": href("lost", reason=row["reason"]),
                "notes": notes_href("loss", row["reason"], week, contract),
            }
            for row in report["lost"]["by_reason"][:TOP_REASONS]
        ],
        "more_reasons": max(0, len(report["lost"]["by_reason"]) - TOP_REASONS),
        "objections": [
            {**row, "notes": notes_href("objection", row["label"], week, contract)}
            for row in report["objections"][:TOP_OBJECTIONS]
        ],
        "more_objections": max(0, len(report["objections"]) - TOP_OBJECTIONS),
        "feedback_href": _feedback_href(week, contract),
        "last": last,
        "form": decision_form,
        "refusal": refusal,
    }


def _feedback_href(week: Week, contract: Contract) -> str:
    start, end = week.bounds(contract.tz)
    query = {
        "since": start.date().isoformat(),
        "until": (end.date() - timedelta(days=1)).isoformat(),
    }
    return f"{reverse('feedback')}?{urlencode(query)}"


def _heights(values: list[int]) -> list[int]:
    """Return bar heights in percent of the largest value, for the sparklines."""
    top = max(values, default=0) or 1
    return [round(100 * v / top) for v in values]


@page()
def meeting(request: HttpRequest, contract: Contract) -> HttpResponse:
    week, error = read_week(request.GET.get("week", ""), contract, timezone.now())
    context = {**pulse_context(contract, week, view="meeting"), "error": error}
    return render(
        request,
        "leadrelay/pulse_meeting.html",
        context,
        status=400 if error else 200,
    )
