"""The pulse's charts: one description of each, drawn in the browser and as PNG.

`chart_specs()` turns a pulse report into plain data, one dict per chart:
what to draw, in which colours, with which labels. The web page hands that
data to Chart.js; `png()` draws the same data with matplotlib for the email
digest. Neither renderer decides anything about the figures, so the page and
the email cannot disagree.

A spec has these keys:

- ``id``: a stable name ("leads-trend", "sla-split", "cohort-funnel"),
  fit for an element id, a file name or an email's content id.
- ``title``, ``alt``: a heading, and one sentence saying what the chart
  shows for a reader who cannot see it.
- ``kind``: ``"stacked"`` (vertical bars, one stack per label) or ``"hbar"``
  (horizontal bars, one series, first label at the top).
- ``labels``: the category of each bar; ``series``: ``{"name", "values",
  "color"}`` each, or ``"colors"`` (one per bar) for a single hbar series.
- ``value_labels``: the text written at the end of each bar or stack;
  ``weeks``: the full ISO week of each label, on the trend only.
- ``axis``: what the values count; ``definition``: how, or None.
- ``empty``: None, or the sentence shown instead of a chart with nothing
  to draw.
"""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from leadrelay.contract.model import Contract, Stage
from leadrelay.models import Event
from leadrelay.pulse.leaks import ENTRIES
from leadrelay.pulse.week import Week

#: Colours the series take in turn; the first ones match the stylesheet.
PALETTE = (
    "#1f5fbf",
    "#e0a200",
    "#1b7a43",
    "#8e44ad",
    "#0f8b8d",
    "#c2571a",
)
#: The sources past the palette's length, and those not in the table, as one.
OTHER_COLOR = "#aab3bf"

SLA_COLORS = {
    "met": "#1b7a43",
    "missed": "#b42318",
    "open": "#7aa5e8",
    "unknown": "#aab3bf",
}
SLA_LABELS = {
    "met": "Met",
    "missed": "Missed",
    "open": "Still open",
    "unknown": "Unknown",
}
FUNNEL_COLOR = "#1f5fbf"

FUNNEL_DEFINITION = (
    "Of the leads that came in this week, how many have reached each stage or "
    "a later one (Won is later than every open stage; Lost is not), as of the "
    "report. A lead reached a stage when an event put it there or further on, "
    "so a lead that skipped a stage counts as having passed it."
)


# -- the cohort funnel ---------------------------------------------------------


def funnel_steps(contract: Contract) -> tuple[Stage, ...]:
    """Return the open stages and Won, in funnel order."""
    won = contract.won_stage
    steps = contract.open_stages + ((won,) if won is not None else ())
    return tuple(sorted(steps, key=lambda s: s.position))


def reached(contract: Contract, stage: str, lead: str = "lead_id") -> Q:
    """Match rows whose lead (the field `lead` names) reached `stage` or later."""
    rank = contract.rank(stage)
    later = [s.key for s in contract.stages if contract.rank(s.key) >= rank]
    entries = Event.objects.filter(
        lead=OuterRef(lead), kind__in=ENTRIES, stage__in=later
    )
    return Q(Exists(entries))


def cohort_funnel(contract: Contract, week: Week) -> dict[str, Any]:
    """Count how many of the week's leads have reached each stage, as of now.

    The week's leads are those with a "created" event in the week, as the
    pulse's leads-in figure counts them. One query: a filtered count per stage.
    """
    start, end = week.bounds(contract.tz)
    steps = funnel_steps(contract)
    created = Event.objects.filter(kind="created", at__gte=start, at__lt=end)
    totals = created.aggregate(
        of=Count("id"),
        **{
            f"reached_{i}": Count("id", filter=reached(contract, s.key))
            for i, s in enumerate(steps)
        },
    )
    of = totals["of"]
    return {
        "week": str(week),
        "of": of,
        "definition": FUNNEL_DEFINITION,
        "stages": [
            {
                "stage": s.key,
                "label": s.label,
                "count": totals[f"reached_{i}"],
                "share": round(totals[f"reached_{i}"] / of, 4) if of else None,
            }
            for i, s in enumerate(steps)
        ],
    }


# -- the specs -----------------------------------------------------------------


def chart_specs(
    pulse: dict[str, Any], funnel: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Return the specs of the pulse's charts, in the order the page shows them.

    The funnel chart needs `cohort_funnel()`'s result, given here or under the
    report's "cohort_funnel" key; without it that chart is left out.
    """
    specs = [leads_trend(pulse), sla_split(pulse)]
    funnel = funnel or pulse.get("cohort_funnel")
    if funnel is not None:
        specs.append(funnel_chart(funnel))
    return specs


def _source(value: str | None) -> str:
    return "(no source)" if not value else value


def _week_label(week: str) -> str:
    # "2018-W03" reads as "W03": eight weeks fit on a phone that way.
    return week[5:] if len(week) == 8 else week


def _share(count: int, of: int) -> str:
    return f"{count} ({100 * count / of:.0f}%)" if of else str(count)


def leads_trend(pulse: dict[str, Any]) -> dict[str, Any]:
    """Stack each week's leads by source, over the trend's weeks.

    The sources are those the pulse's table lists (this week's and last
    week's), up to the palette's length; every other lead of a week, such as
    one from a source seen only five weeks ago, stacks as "other sources", so
    that each stack adds up to the week's total.
    """
    leads = pulse["leads_in"]
    weeks = [row["week"] for row in leads["trend"]]
    totals = [row["count"] for row in leads["trend"]]
    series = [
        {"name": _source(row["source"]), "values": list(row["trend"]), "color": color}
        for row, color in zip(leads["by_source"], PALETTE, strict=False)
    ]
    other = [
        total - sum(s["values"][i] for s in series) for i, total in enumerate(totals)
    ]
    if any(other):
        series.append({"name": "other sources", "values": other, "color": OTHER_COLOR})

    first, last = (weeks[0], weeks[-1]) if weeks else ("", "")
    counts = ", ".join(
        f"{_week_label(w)} {n}" for w, n in zip(weeks, totals, strict=True)
    )
    return {
        "id": "leads-trend",
        "title": f"Leads in by source, {first} to {last}",
        "alt": f"Leads in per week by source, {first} to {last}: {counts}.",
        "kind": "stacked",
        "labels": [_week_label(w) for w in weeks],
        "weeks": weeks,
        "series": series,
        "value_labels": [str(n) for n in totals],
        "axis": "leads",
        "definition": "Leads whose arrival was recorded in each ISO week.",
        "empty": None if any(totals) else f"No lead came in from {first} to {last}.",
    }


def sla_split(pulse: dict[str, Any]) -> dict[str, Any]:
    """Split the week's first-contact clocks into met, missed, still open, unknown."""
    sla = pulse["sla"]
    keys = list(SLA_LABELS)
    values = [sla.get(k) or 0 for k in keys]
    of = sla.get("of") or 0
    empty = None
    definition = None
    if sla.get("key") is None:
        empty = "The contract sets no first-contact SLA."
    else:
        start = "handoff" if sla["starts"] == "handoff" else "inquiry"
        definition = (
            f"{sla['label']}: within {sla['within_hours']:g} {sla['clock']} hours "
            f"of the {start}, for the clocks started this week."
        )
        if not of:
            empty = "No contact clock started this week."

    parts = ", ".join(
        f"{SLA_LABELS[k].lower()} {v}" for k, v in zip(keys, values, strict=True)
    )
    return {
        "id": "sla-split",
        "title": f"Contacted within the SLA, {pulse['week']}",
        "alt": f"Of {of} contact clocks started in {pulse['week']}: {parts}.",
        "kind": "hbar",
        "labels": [SLA_LABELS[k] for k in keys],
        "series": [
            {
                "name": "leads",
                "values": values,
                "colors": [SLA_COLORS[k] for k in keys],
            }
        ],
        "value_labels": [_share(v, of) for v in values],
        "axis": "leads",
        "definition": definition,
        "empty": empty,
    }


def funnel_chart(funnel: dict[str, Any]) -> dict[str, Any]:
    """Draw how far the week's leads have got, one bar per stage."""
    stages = funnel["stages"]
    of = funnel["of"]
    values = [s["count"] for s in stages]
    parts = ", ".join(f"{s['label']} {s['count']}" for s in stages)
    return {
        "id": "cohort-funnel",
        "title": f"How far the leads of {funnel['week']} have got",
        "alt": f"Of the {of} leads that came in in {funnel['week']}: {parts}.",
        "kind": "hbar",
        "labels": [s["label"] for s in stages],
        "series": [
            {"name": "leads", "values": values, "colors": [FUNNEL_COLOR] * len(values)}
        ],
        "value_labels": [_share(v, of) for v in values],
        "axis": "leads",
        "definition": funnel["definition"],
        "empty": None if of else f"No lead came in in {funnel['week']}.",
    }


# -- PNG -----------------------------------------------------------------------

#: Size of a PNG in inches, and its resolution: 900 × 450 pixels.
PNG_SIZE = (6.0, 3.0)
PNG_DPI = 150
INK = "#1d2430"
MUTED = "#5d6776"


def png(spec: dict[str, Any]) -> bytes:
    """Draw one spec as a PNG image, with matplotlib's Agg renderer.

    No window system and no global state: each call draws on its own figure.
    """
    # Imported here: matplotlib takes a moment to load, and only the digest
    # and the tests draw PNGs.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=PNG_SIZE, dpi=PNG_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(spec["title"], loc="left", fontsize=11, color=INK, pad=10)

    if spec.get("empty"):
        axes.set_axis_off()
        axes.text(0.5, 0.5, spec["empty"], ha="center", va="center", color=MUTED)
    elif spec["kind"] == "stacked":
        _stacked(axes, spec)
    else:
        _hbar(axes, spec)

    if not spec.get("empty"):
        axis = axes.yaxis if spec["kind"] == "stacked" else axes.xaxis
        axis.set_major_locator(MaxNLocator(integer=True))
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(colors=MUTED, labelsize=8)

    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _stacked(axes: Any, spec: dict[str, Any]) -> None:
    positions = range(len(spec["labels"]))
    bottoms = [0] * len(spec["labels"])
    for series in spec["series"]:
        axes.bar(
            positions,
            series["values"],
            bottom=bottoms,
            color=series["color"],
            label=series["name"],
            width=0.7,
        )
        bottoms = [b + v for b, v in zip(bottoms, series["values"], strict=True)]
    for x, top, text in zip(positions, bottoms, spec["value_labels"], strict=True):
        axes.annotate(
            text,
            (x, top),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            color=MUTED,
        )
    axes.set_xticks(list(positions), spec["labels"])
    axes.set_ylim(0, max(bottoms) * 1.18 or 1)
    axes.set_ylabel(spec["axis"], fontsize=8, color=MUTED)
    axes.legend(
        fontsize=7,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )


def _hbar(axes: Any, spec: dict[str, Any]) -> None:
    series = spec["series"][0]
    positions = range(len(spec["labels"]))
    values = series["values"]
    axes.barh(positions, values, color=series["colors"], height=0.6)
    axes.set_yticks(list(positions), spec["labels"])
    axes.invert_yaxis()
    for y, value, text in zip(positions, values, spec["value_labels"], strict=True):
        axes.annotate(
            text,
            (value, y),
            xytext=(3, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=8,
            color=INK,
        )
    axes.set_xlim(0, max(values, default=0) * 1.3 or 1)
    axes.set_xlabel(spec["axis"], fontsize=8, color=MUTED)
