"""The weekly digest: the pulse itself, as an email and as a chat message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.html import escape

from leadrelay.contract.model import Contract
from leadrelay.notify.compose import escape as chat_escape
from leadrelay.pulse import render
from leadrelay.pulse.week import Week

_TABLE = 'style="border-collapse:collapse;margin:4px 0 16px 0"'
_TH = 'style="text-align:left;padding:3px 10px;border-bottom:1px solid #ccc"'
_TD = 'style="padding:3px 10px;border-bottom:1px solid #eee"'
_NUM = 'style="padding:3px 10px;border-bottom:1px solid #eee;text-align:right"'


def slot(contract: Contract, now: datetime) -> tuple[Week, datetime]:
    """Return the latest pulse time at or before `now`, and the week it reports.

    The pulse is due on the contract's day and time in its time zone; it
    reports the last complete ISO week before that moment, like `leadrelay
    pulse` does by default.
    """
    tz = contract.tz
    week = Week.containing(now.astimezone(tz).date())
    due = _due_in(week, contract)
    if due > now:
        week = week.previous()
        due = _due_in(week, contract)

    reported = Week.containing(due.astimezone(tz).date()).previous()
    return reported, due


def _due_in(week: Week, contract: Contract) -> datetime:
    day = week.monday + timedelta(days=contract.pulse.day)
    return datetime.combine(day, contract.pulse.at, tzinfo=contract.tz)


def subject(report: dict[str, Any]) -> str:
    return f"Pipeline pulse {report['week']}: {report['leads_in']['total']} leads in"


def text(report: dict[str, Any]) -> str:
    return render.pulse_text(report, "text")


def chat_payload(report: dict[str, Any]) -> dict[str, Any]:
    body = text(report)
    if len(body) > 2800:
        body = body[:2800] + "\n…"
    sla = report["sla"]
    figures = (
        f"SLA met {sla['met']} of {sla['of']}"
        if sla.get("key") is not None
        else "no SLA set"
    )
    summary = (
        f"Pipeline pulse {report['week']}: {report['leads_in']['total']} leads in, "
        f"{figures}, won {report['won']}, lost {report['lost']['total']}"
    )
    return {
        "text": summary,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{summary}*"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"```{chat_escape(body)}```"},
            },
        ],
    }


def html(report: dict[str, Any]) -> str:
    """Return the pulse as an HTML email: headings and plain, inline-styled tables."""
    leads = report["leads_in"]
    sla = report["sla"]
    q = report["qualified"]
    cohort = q["cohort"]
    lost = report["lost"]
    stalled = report["stalled"]
    parts = [
        '<div style="font-family:Helvetica,Arial,sans-serif;font-size:14px;'
        'color:#222;max-width:640px">',
        f'<h1 style="font-size:20px">Pipeline pulse {escape(report["week"])}</h1>',
        f'<p style="color:#666">{escape(report["starts"][:10])} to '
        f"{escape(report['ends'][:10])} (end excluded), {escape(report['timezone'])}; "
        f"contract {escape(report['contract']['name'])} "
        f"{escape(report['contract']['version'])}</p>",
        _h2(
            f"1. Leads in: {leads['total']} (last week {leads['previous']})",
        ),
        _table(
            ["Source", "This week", "Last week"],
            [
                [r["source"] or "(no source)", r["count"], r["previous"]]
                for r in leads["by_source"]
            ],
        ),
        _h2("2. Contacted within the SLA"),
    ]
    if sla.get("key") is None:
        parts.append("<p>The contract sets no first-contact SLA.</p>")
    else:
        parts.append(
            f"<p>{escape(sla['label'])}: within {sla['within_hours']:g} "
            f"{escape(sla['clock'])} hours of the {escape(sla['starts'])}</p>"
        )
        parts.append(
            _table(
                ["Met", "Missed", "Still open", "Unknown", "Of"],
                [[sla["met"], sla["missed"], sla["open"], sla["unknown"], sla["of"]]],
            )
        )
    rate = "n/a" if cohort["rate"] is None else f"{100 * cohort['rate']:.1f}%"
    parts += [
        _h2("3. Qualified rate"),
        f"<p>Cohort: {cohort['count']} of {cohort['of']} ({rate}); "
        f"flow: {q['flow']} reached it this week.</p>",
        f'<p style="color:#666">{escape(cohort["definition"])} '
        f"{escape(q['flow_definition'])}</p>",
        _h2(f"4. Won {report['won']} · lost {lost['total']}"),
        _table(
            ["Loss reason", "Leads"],
            [[r["label"], r["count"]] for r in lost["by_reason"]],
        ),
        _table(
            ["Objection", "Times"],
            [[o["text"], o["count"]] for o in report["objections"][:5]],
        ),
        _h2(f"5. Stalled: {stalled['total']}"),
        _table(
            ["Stage", "Idle over (days)", "Leads"],
            [
                [r["label"], f"{r['threshold_days']:g}", r["count"]]
                for r in stalled["by_stage"]
            ],
        ),
    ]
    decision = report.get("decision")
    parts += [
        _h2("Decision for next week"),
        f"<p>{escape(decision['text']) if decision else 'None recorded yet.'}</p>",
        "</div>",
    ]
    return "\n".join(parts) + "\n"


def _h2(title: str) -> str:
    return f'<h2 style="font-size:16px;margin:18px 0 4px 0">{escape(title)}</h2>'


def _table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return '<p style="color:#666">None this week.</p>'

    cells = "".join(f"<th {_TH}>{escape(h)}</th>" for h in head)
    out = [f"<table {_TABLE}><tr>{cells}</tr>"]
    for row in rows:
        tds = "".join(
            f"<td {_NUM if isinstance(v, int) else _TD}>{escape(str(v))}</td>"
            for v in row
        )
        out.append(f"<tr>{tds}</tr>")

    return "".join(out) + "</table>"
