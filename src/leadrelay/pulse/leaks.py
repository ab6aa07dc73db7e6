"""Where leads leak: conversion between stages, time in stage and idle open leads.

`report()` reads the leads with one query and their events with another,
then hands both to `analyse()`, which is plain Python: it walks each lead's
history once and adds what it finds to the whole funnel's tally and to the
tally of the lead's breakdown group (its source, segment or owner). Every
rate carries its sample size and a 95% Wilson interval, and a group too small
to say anything is marked so and never named as the leak.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.utils import timezone

from leadrelay.contract.model import Contract, Stage
from leadrelay.models import Event, Lead
from leadrelay.pulse.stats import median, quantile, wilson

#: Each breakdown and the lead field it groups by.
BREAKDOWNS: dict[str, str] = {
    "source": "source",
    "segment": "industry",
    "owner": "owner",
}

#: How a lead with no value for the breakdown's field is shown.
MISSING: dict[str, str] = {
    "source": "(no source)",
    "segment": "(no segment)",
    "owner": "(no owner)",
}

FORMATS = ("text", "markdown", "json")

#: A row says something only with this many leads at its first stage...
MIN_LEADS = 30
#: ...and a 95% interval no wider than this.
MAX_WIDTH = 0.3

#: Event kinds that put a lead in the stage the event names.
ENTRIES = frozenset({"created", "stage", "won", "lost", "reopened"})

DEFINITIONS = {
    "conversion": (
        "Of the leads that reached a stage, the share that went on to reach the "
        "next one or a later one. A lead reached a stage when an event put it in "
        "that stage or a later one (Lost is not later), so a lead that skipped a "
        "stage counts as having passed it. Leads still open count in the first "
        "figure and not yet in the second."
    ),
    "time_in_stage": (
        "Days from entering a stage to entering a different one or closing, over "
        "the stays that have ended and whose two times the records give; a stay "
        "still going is not counted, and one with a missing time is counted as "
        "unmeasured. Median and 90th percentile by linear interpolation."
    ),
    "stalled": (
        "Open leads with no event for longer than their stage's stall_after_days, "
        "as of the report's as_of."
    ),
    "interval": "95% Wilson score interval.",
    "too_few": (
        f"A row is marked too_few, and never named as the leak, when fewer than "
        f"{MIN_LEADS} leads reached its first stage or its 95% interval is wider "
        f"than {MAX_WIDTH * 100:.0f} percentage points."
    ),
    "leak": (
        "With a breakdown: the transition and group that lose the most leads "
        "against the whole funnel's rate for that transition, leads × (overall "
        "rate − group rate), among rows that are not too_few. Without one: the "
        "transition the most leads reached without going further."
    ),
    "range": (
        "since and until select the leads that came in on those days, both "
        "included, in the contract's time zone; all their recorded history "
        "counts. Leads with no arrival date count only when no range is given."
    ),
}


@dataclass(frozen=True)
class LeadRow:
    """What the report needs of one lead."""

    id: int
    #: The lead's value for the breakdown, None when it has none.
    group: str | None
    stage: str
    created_at: datetime | None
    last_event_at: datetime | None


#: One event: lead id, kind, the stage it names, and when (None: unknown).
EventRow = tuple[int, str, str, datetime | None]


@dataclass(frozen=True)
class Funnel:
    """The contract's open stages and Won, with what the report needs of them."""

    contract: Contract
    steps: tuple[Stage, ...]
    ranks: dict[str, int]
    open_keys: frozenset[str]
    thresholds: dict[str, timedelta]
    lost_key: str | None

    @classmethod
    def of(cls, contract: Contract) -> Funnel:
        won = contract.won_stage
        steps = contract.open_stages + ((won,) if won is not None else ())
        lost = contract.lost_stage
        return cls(
            contract=contract,
            steps=tuple(sorted(steps, key=lambda s: s.position)),
            ranks={s.key: contract.rank(s.key) for s in contract.stages},
            open_keys=frozenset(s.key for s in contract.open_stages),
            thresholds={
                s.key: timedelta(days=s.stall_after_days)
                for s in contract.open_stages
                if s.stall_after_days
            },
            lost_key=lost.key if lost is not None else None,
        )


@dataclass
class Trail:
    """One lead's history, reduced to what the tallies count."""

    reached: int
    lost: bool
    #: Each ended stay in an open stage: the stage and its days, None if unknown.
    stays: list[tuple[str, float | None]]
    #: The stage the lead was in as of the report, if it was open then.
    open_stage: str | None = None
    stalled: bool = False


@dataclass
class Tally:
    leads: int = 0
    #: Leads by the furthest rank they reached.
    reached: Counter[int] = field(default_factory=Counter)
    #: Leads now closed lost, by the furthest rank they reached.
    lost: Counter[int] = field(default_factory=Counter)
    stays: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unmeasured: Counter[str] = field(default_factory=Counter)
    open_in: Counter[str] = field(default_factory=Counter)
    stalled: Counter[str] = field(default_factory=Counter)

    def add(self, trail: Trail) -> None:
        self.leads += 1
        self.reached[trail.reached] += 1
        if trail.lost:
            self.lost[trail.reached] += 1
        for stage, days in trail.stays:
            if days is None:
                self.unmeasured[stage] += 1
            else:
                self.stays[stage].append(days)
        if trail.open_stage is not None:
            self.open_in[trail.open_stage] += 1
            if trail.stalled:
                self.stalled[trail.open_stage] += 1


# -- reading -------------------------------------------------------------------


def report(
    contract: Contract,
    *,
    since: date | None = None,
    until: date | None = None,
    by: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return the leak report for the leads that came in from `since` to `until`.

    Both days are included and read in the contract's time zone; idle leads
    are judged as of the end of `until`, or now if that is sooner.
    """
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f'unknown breakdown "{by}": use {", ".join(BREAKDOWNS)}')

    if since is not None and until is not None and since > until:
        raise ValueError(f"since ({since}) is after until ({until})")

    tz = contract.tz
    now = now or timezone.now()
    start = datetime.combine(since, time(0), tzinfo=tz) if since else None
    end = (
        datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz)
        if until
        else None
    )
    as_of = min(now, end) if end is not None else now

    leads = Lead.objects.all()
    events = Event.objects.all()
    if start is not None:
        leads = leads.filter(created_at__gte=start)
        events = events.filter(lead__created_at__gte=start)
    if end is not None:
        leads = leads.filter(created_at__lt=end)
        events = events.filter(lead__created_at__lt=end)

    column = BREAKDOWNS[by] if by else "stage"
    rows = (
        LeadRow(pk, value if by else None, stage, created, last)
        for pk, value, stage, created, last in leads.values_list(
            "pk", column, "stage", "created_at", "last_event_at"
        ).iterator(chunk_size=10_000)
    )
    # In recorded order, not by time: `at` may be NULL (SQLite sorts NULLs
    # first, PostgreSQL last), and an import writes a lead's events in the
    # order its history implies.
    history = (
        events.order_by("lead_id", "id")
        .values_list("lead_id", "kind", "stage", "at")
        .iterator(chunk_size=10_000)
    )
    result = analyse(contract, rows, history, by=by, as_of=as_of)
    return {
        "contract": {"name": contract.name, "version": contract.sha256[:12]},
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "timezone": contract.timezone,
        **result,
    }


# -- counting ------------------------------------------------------------------


def analyse(
    contract: Contract,
    leads: Iterable[LeadRow],
    events: Iterable[EventRow],
    *,
    by: str | None,
    as_of: datetime,
) -> dict[str, Any]:
    """Count the leads' histories into the report; `events` come grouped by lead."""
    funnel = Funnel.of(contract)
    as_of = as_of.astimezone(contract.tz)
    rows = {lead.id: lead for lead in leads}
    overall = Tally()
    groups: dict[str | None, Tally] = defaultdict(Tally)
    undated = 0

    def count(lead: LeadRow, history: list[EventRow]) -> None:
        trail = follow(funnel, lead, history, as_of)
        overall.add(trail)
        if by is not None:
            groups[_group(lead.group)].add(trail)

    seen: set[int] = set()
    for lead_id, group in groupby(events, key=itemgetter(0)):
        lead = rows.get(lead_id)
        if lead is None:
            continue
        seen.add(lead_id)
        count(lead, list(group))

    for lead in rows.values():
        if lead.created_at is None:
            undated += 1
        if lead.id not in seen:
            count(lead, [])

    whole = _section(funnel, overall, as_of)
    breakdown = []
    if by is not None:
        for value, tally in groups.items():
            row = {
                "value": value,
                "label": MISSING[by] if value is None else value,
                **_section(funnel, tally, as_of),
            }
            for mine, theirs in zip(
                row["conversion"], whole["conversion"], strict=True
            ):
                mine["excess_lost"] = _excess(mine, theirs)
            breakdown.append(row)
        breakdown.sort(key=lambda r: (-r["leads"], r["value"] is None, r["label"]))

    leak = biggest_leak(whole, breakdown, by)
    return _rounded(
        {
            "as_of": as_of.isoformat(),
            "by": by,
            "leads": overall.leads,
            "undated_leads": undated,
            "definitions": DEFINITIONS,
            "biggest_leak": leak,
            "overall": whole,
            "breakdown": breakdown,
        }
    )


def _rounded(value: Any) -> Any:
    """Round every float to 4 places, once the leak has been found on exact figures."""
    if isinstance(value, float):
        return round(value, 4)

    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}

    if isinstance(value, list):
        return [_rounded(v) for v in value]

    return value


def _group(value: str | None) -> str | None:
    # An empty string is no more a value than NULL is.
    return value if value else None


def follow(
    funnel: Funnel, lead: LeadRow, history: list[EventRow], as_of: datetime
) -> Trail:
    """Reduce one lead's events, in recorded order, to what the tallies count."""
    reached = 0
    entries: list[tuple[str, datetime | None]] = []
    for _, kind, stage, at in history:
        if kind not in ENTRIES or stage not in funnel.ranks:
            continue
        reached = max(reached, funnel.ranks[stage])
        if entries and entries[-1][0] == stage:
            continue
        entries.append((stage, at))

    stays: list[tuple[str, float | None]] = []
    for (stage, entered), (_, left) in zip(entries, entries[1:], strict=False):
        if stage not in funnel.open_keys:
            continue
        if entered is None or left is None or left < entered:
            stays.append((stage, None))
        else:
            stays.append((stage, (left - entered).total_seconds() / 86400))

    trail = Trail(reached=reached, lost=lead.stage == funnel.lost_key, stays=stays)
    current, last = _state_as_of(lead, history, as_of)
    if current is not None and current in funnel.open_keys:
        trail.open_stage = current
        limit = funnel.thresholds.get(current)
        trail.stalled = limit is not None and last is not None and last < as_of - limit

    return trail


def _state_as_of(
    lead: LeadRow, history: list[EventRow], as_of: datetime
) -> tuple[str | None, datetime | None]:
    """Return the lead's stage and its last event's time as of `as_of`.

    A lead with nothing after `as_of` is judged from its row, as the pulse
    does; one with later events is rebuilt from those before. An undated
    event is taken to have happened with the dated one recorded before it.
    """
    if lead.created_at is None or lead.created_at >= as_of:
        return None, None

    if lead.last_event_at is None or lead.last_event_at <= as_of:
        return lead.stage, lead.last_event_at

    stage: str | None = None
    last: datetime | None = None
    known: datetime | None = None
    for _, kind, key, at in history:
        if at is not None:
            known = at
        if known is None or known > as_of:
            continue
        if at is not None:
            last = at if last is None else max(last, at)
        if kind in ENTRIES:
            stage = key

    return stage, last


# -- the report's sections -----------------------------------------------------


def _section(funnel: Funnel, tally: Tally, as_of: datetime) -> dict[str, Any]:
    steps = funnel.steps
    conversion = [
        _conversion(funnel, tally, a, b) for a, b in zip(steps, steps[1:], strict=False)
    ]
    end_to_end = (
        _conversion(funnel, tally, steps[0], steps[-1]) if len(steps) > 1 else None
    )
    return {
        "leads": tally.leads,
        "conversion": conversion,
        "end_to_end": end_to_end,
        "time_in_stage": [
            _time_in(tally, s) for s in steps if s.key in funnel.open_keys
        ],
        "stalled": _stalled(funnel, tally, as_of),
    }


def _conversion(funnel: Funnel, tally: Tally, a: Stage, b: Stage) -> dict[str, Any]:
    low_rank, high_rank = funnel.ranks[a.key], funnel.ranks[b.key]
    n = sum(c for rank, c in tally.reached.items() if rank >= low_rank)
    converted = sum(c for rank, c in tally.reached.items() if rank >= high_rank)
    lost = sum(c for rank, c in tally.lost.items() if low_rank <= rank < high_rank)
    interval = wilson(converted, n)
    return {
        "from": a.key,
        "from_label": a.label,
        "to": b.key,
        "to_label": b.label,
        "n": n,
        "converted": converted,
        "lost": lost,
        "open": n - converted - lost,
        "rate": converted / n if n else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
        "too_few": _too_few(n, interval),
    }


def _too_few(n: int, interval: tuple[float, float] | None) -> bool:
    if n < MIN_LEADS or interval is None:
        return True

    return interval[1] - interval[0] > MAX_WIDTH


def _excess(mine: dict[str, Any], overall: dict[str, Any]) -> float | None:
    """Return how many more of the row's leads were lost than the overall rate loses."""
    if mine["rate"] is None or overall["rate"] is None:
        return None

    return mine["n"] * (overall["rate"] - mine["rate"])


def _time_in(tally: Tally, stage: Stage) -> dict[str, Any]:
    days = tally.stays.get(stage.key, [])
    return {
        "stage": stage.key,
        "label": stage.label,
        "n": len(days),
        "median_days": median(days),
        "p90_days": quantile(days, 0.9),
        "unmeasured": tally.unmeasured[stage.key],
        "too_few": len(days) < MIN_LEADS,
    }


def _stalled(funnel: Funnel, tally: Tally, as_of: datetime) -> dict[str, Any]:
    by_stage = [
        {
            "stage": s.key,
            "label": s.label,
            "threshold_days": funnel.thresholds[s.key].total_seconds() / 86400,
            "count": tally.stalled[s.key],
            "open": tally.open_in[s.key],
        }
        for s in funnel.steps
        if s.key in funnel.thresholds
    ]
    return {
        "as_of": as_of.isoformat(),
        "total": sum(row["count"] for row in by_stage),
        "by_stage": by_stage,
    }


# -- the leak ------------------------------------------------------------------


def biggest_leak(
    overall: dict[str, Any], breakdown: list[dict[str, Any]], by: str | None
) -> dict[str, Any]:
    """Name the one place that loses the most leads, in a sentence and in figures."""
    if by is None:
        return _worst_transition(overall)

    candidates = [
        (row["excess_lost"], group, row, whole)
        for group in breakdown
        for row, whole in zip(group["conversion"], overall["conversion"], strict=True)
        if not row["too_few"] and row["excess_lost"] is not None
    ]
    if not candidates:
        return _no_leak(
            f"Too few leads to name a leak: no {by} has a transition with "
            f"{MIN_LEADS} leads and a 95% interval narrower than "
            f"{MAX_WIDTH * 100:.0f} points."
        )

    excess, group, row, whole = max(candidates, key=lambda c: c[0])
    if excess <= 0:
        return _no_leak(
            f"No {by} loses more leads at any transition than the overall rate would."
        )

    who = (
        f"{by} '{group['label']}'"
        if group["value"] is not None
        else f"leads with no {by}"
    )
    lost_leads = round(excess)
    sentence = (
        f"The biggest leak is {row['from_label']} → {row['to_label']} for {who}: "
        f"{_pct(row['rate'])} convert against {_pct(whole['rate'])} overall "
        f"(n={row['n']:,}, 95% CI {_interval(row)}), about {lost_leads:,} more "
        f"{'lead' if lost_leads == 1 else 'leads'} lost than the overall rate "
        "would lose." + _fates(row)
    )
    return {
        "sentence": sentence,
        "from": row["from"],
        "to": row["to"],
        "by": by,
        "value": group["value"],
        "label": group["label"],
        "n": row["n"],
        "converted": row["converted"],
        "rate": row["rate"],
        "low": row["low"],
        "high": row["high"],
        "overall_rate": whole["rate"],
        "excess_lost": excess,
    }


def _worst_transition(overall: dict[str, Any]) -> dict[str, Any]:
    candidates = [row for row in overall["conversion"] if not row["too_few"]]
    if not candidates:
        return _no_leak(
            f"Too few leads to name a leak: no transition has {MIN_LEADS} leads "
            f"and a 95% interval narrower than {MAX_WIDTH * 100:.0f} points."
        )

    row = max(candidates, key=lambda r: (r["n"] - r["converted"], -r["rate"]))
    stuck = row["n"] - row["converted"]
    if stuck == 0:
        return _no_leak(
            "No transition loses a lead: every lead that reached a stage went on."
        )

    sentence = (
        f"The biggest leak is {row['from_label']} → {row['to_label']}: "
        f"{stuck:,} of the {row['n']:,} leads that reached {row['from_label']} "
        f"have not reached {row['to_label']} "
        f"({_pct(row['rate'])} did, 95% CI {_interval(row)})." + _fates(row)
    )
    return {
        "sentence": sentence,
        "from": row["from"],
        "to": row["to"],
        "by": None,
        "value": None,
        "label": None,
        "n": row["n"],
        "converted": row["converted"],
        "rate": row["rate"],
        "low": row["low"],
        "high": row["high"],
        "overall_rate": row["rate"],
        "excess_lost": None,
    }


def _fates(row: dict[str, Any]) -> str:
    """Say how many of the leads not (yet) converted are lost and how many open."""
    if not row["open"]:
        return ""

    stuck = row["n"] - row["converted"]
    verb = "is" if row["open"] == 1 else "are"
    return (
        f" Of the {stuck:,} that have not reached {row['to_label']}, "
        f"{row['lost']:,} closed lost and {row['open']:,} {verb} still open."
    )


def _no_leak(sentence: str) -> dict[str, Any]:
    keys = (
        "from",
        "to",
        "by",
        "value",
        "label",
        "n",
        "converted",
        "rate",
        "low",
        "high",
    )
    return {
        "sentence": sentence,
        **dict.fromkeys(keys),
        "overall_rate": None,
        "excess_lost": None,
    }


# -- rendering -----------------------------------------------------------------


def _whole(share: float) -> int:
    """Return a share as whole percent, halves rounded up as a reader would."""
    return math.floor(100 * share + 0.5)


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{_whole(rate)}%"


def _interval(row: dict[str, Any]) -> str:
    if row["low"] is None:
        return "n/a"

    low, high = row["low"], row["high"]
    if _whole(low) == _whole(high) and low != high:
        # A narrow interval near 0% or 100% would read "0–0%".
        return f"{100 * low:.1f}–{100 * high:.1f}%"

    return f"{_whole(low)}–{_whole(high)}%"


def _days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def render(result: dict[str, Any], fmt: str) -> str:
    """Return the report as terminal text, Markdown or JSON."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n"

    return "\n".join(_lines(result, fmt == "markdown")) + "\n"


def _lines(result: dict[str, Any], markdown: bool) -> list[str]:
    h = "## " if markdown else ""
    bullet = "- " if markdown else "  "
    scope = "all leads"
    if result["since"] or result["until"]:
        since, until = result["since"] or "any time", result["until"] or "now"
        scope = f"leads that came in {since} to {until}"
    out = [
        f"{'# ' if markdown else ''}Leaks: {scope} ({result['leads']:,})",
        "",
        f"contract {result['contract']['name']} "
        f"version {result['contract']['version']}, "
        f"as of {result['as_of'][:16].replace('T', ' ')} ({result['timezone']})",
        "",
        result["biggest_leak"]["sentence"],
        "",
    ]
    overall = result["overall"]
    out += [f"{h}Conversion", "", *_conversion_lines(overall, markdown, bullet)]
    out += [f"{bullet}{result['definitions']['conversion']}", ""]
    out += [f"{h}Time in stage (days)", "", *_time_lines(overall, markdown, bullet), ""]
    out += [
        f"{h}Stalled: {overall['stalled']['total']:,} open leads idle "
        "past their stage's limit",
        "",
    ]
    for row in overall["stalled"]["by_stage"]:
        out.append(
            f"{bullet}{row['label']} (over {row['threshold_days']:g} days): "
            f"{row['count']:,} of {row['open']:,} open"
        )
    out.append("")

    by = result["by"]
    if by is None:
        return out

    for index, whole in enumerate(overall["conversion"]):
        out += [
            f"{h}By {by}: {whole['from_label']} → {whole['to_label']} "
            f"({_pct(whole['rate'])} overall)",
            "",
        ]
        if markdown:
            out += [
                f"| {by} | rate | 95% CI | n | leads lost vs overall |",
                "|---|---:|---:|---:|---:|",
            ]
        for group in result["breakdown"]:
            row = group["conversion"][index]
            excess = "too few" if row["too_few"] else f"{row['excess_lost']:+.0f}"
            if markdown:
                out.append(
                    f"| {group['label']} | {_pct(row['rate'])} | {_interval(row)} | "
                    f"{row['n']:,} | {excess} |"
                )
            else:
                out.append(
                    f"  {group['label'][:28]:<28} {_pct(row['rate']):>5} "
                    f"{_interval(row):>9} n={row['n']:<7,} {excess}"
                )
        out.append("")
    out.append(f"{bullet}{result['definitions']['too_few']}")
    out.append("")
    return out


def _conversion_lines(
    section: dict[str, Any], markdown: bool, bullet: str
) -> list[str]:
    rows = list(section["conversion"])
    if section["end_to_end"] is not None:
        rows.append(section["end_to_end"])
    out = []
    if markdown:
        out += [
            "| from → to | reached | went on | lost | open | rate | 95% CI |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
    for row in rows:
        name = f"{row['from_label']} → {row['to_label']}"
        if markdown:
            out.append(
                f"| {name} | {row['n']:,} | {row['converted']:,} | {row['lost']:,} | "
                f"{row['open']:,} | {_pct(row['rate'])} | {_interval(row)} |"
            )
        else:
            out.append(
                f"  {name:<28} {row['converted']:>7,} of {row['n']:<7,} "
                f"{_pct(row['rate']):>5} ({_interval(row)})  "
                f"lost {row['lost']:,}, open {row['open']:,}"
            )
    out.append("")
    return out


def _time_lines(section: dict[str, Any], markdown: bool, bullet: str) -> list[str]:
    out = []
    if markdown:
        out += [
            "| stage | median | 90th percentile | stays | unmeasured |",
            "|---|---:|---:|---:|---:|",
        ]
    for row in section["time_in_stage"]:
        if markdown:
            out.append(
                f"| {row['label']} | {_days(row['median_days'])} | "
                f"{_days(row['p90_days'])} | {row['n']:,} | {row['unmeasured']:,} |"
            )
        else:
            out.append(
                f"  {row['label']:<14} median {_days(row['median_days']):>6}  "
                f"p90 {_days(row['p90_days']):>6}  "
                f"(n={row['n']:,}, unmeasured {row['unmeasured']:,})"
            )
    return out
