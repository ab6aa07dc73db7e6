"""Render a pulse report (and the audit around it) as terminal text, Markdown or JSON."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

FORMATS = ("text", "markdown", "json")


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def _source(value: str | None) -> str:
    return "(no source)" if value is None else value


def _share(count: int | None, of: int | None) -> str:
    if count is None:
        return "unknown"
    if not of:
        return f"{count}"

    return f"{count} of {of} ({100 * count / of:.0f}%)"


def _last_day(end: str) -> str:
    """Return the last day of a week whose end (excluded) is `end`."""
    return (date.fromisoformat(end[:10]) - timedelta(days=1)).isoformat()


def _delta(now: int, before: int) -> str:
    diff = now - before
    return "±0" if diff == 0 else f"{diff:+d}"


def _spark(values: list[int]) -> str:
    bars = "▁▂▃▄▅▆▇█"
    top = max(values) if values else 0
    if top == 0:
        return "▁" * len(values)

    return "".join(bars[min(7, round(7 * v / top))] for v in values)


def pulse_lines(pulse: dict[str, Any], markdown: bool) -> list[str]:
    h = "## " if markdown else ""
    bullet = "- " if markdown else "  "
    out = [
        f"{'# ' if markdown else ''}Pipeline pulse {pulse['week']}",
        "",
        f"{pulse['starts'][:10]} to {_last_day(pulse['ends'])} ({pulse['timezone']}), "
        f"contract {pulse['contract']['name']} version {pulse['contract']['version']}",
        "",
    ]

    leads = pulse["leads_in"]
    out += [
        f"{h}1. Leads in: {leads['total']} ({_delta(leads['total'], leads['previous'])} on last week's {leads['previous']})",
        "",
    ]
    if markdown:
        out += ["| Source | This week | Last week | 8 weeks |", "|---|---:|---:|---|"]
    for row in leads["by_source"]:
        name = _source(row["source"])
        trend = _spark(row["trend"])
        if markdown:
            out.append(f"| {name} | {row['count']} | {row['previous']} | {trend} |")
        else:
            out.append(f"  {name:<24} {row['count']:>6} {row['previous']:>6}  {trend}")
    if not leads["by_source"]:
        out.append(f"{bullet}no leads came in")
    out.append("")

    sla = pulse["sla"]
    out.append(f"{h}2. Contacted within the SLA")
    out.append("")
    if sla.get("key") is None:
        out.append(f"{bullet}the contract sets no first-contact SLA")
    else:
        clock = "business" if sla["clock"] == "business" else "calendar"
        out += [
            f"{bullet}{sla['label']}: within {sla['within_hours']:g} {clock} hours of the {'inquiry' if sla['starts'] == 'inquiry' else 'handoff'}",
            f"{bullet}met {sla['met']} · missed {sla['missed']} · still open {sla['open']} · unknown {sla['unknown']} (of {sla['of']})",
        ]
        if sla["unknown"]:
            out.append(
                f"{bullet}unknown: the source of these leads records no contact times"
            )
    out.append("")

    q = pulse["qualified"]
    cohort = q["cohort"]
    rate = "n/a" if cohort["rate"] is None else f"{100 * cohort['rate']:.1f}%"
    out += [
        f"{h}3. Qualified rate",
        "",
        f"{bullet}cohort: {cohort['count']} of {cohort['of']} ({rate})",
        f"{bullet}flow: {q['flow']} reached it this week",
        f"{bullet}{cohort['definition']}",
        f"{bullet}{q['flow_definition']}",
    ]
    if q.get("reached_at_unknown_time"):
        out.append(
            f"{bullet}{q['reached_at_unknown_time']} leads in all the data reached it at a time the records do not give; flow leaves them out"
        )
    out.append("")

    lost = pulse["lost"]
    out += [f"{h}4. Won {pulse['won']} · lost {lost['total']}", ""]
    for row in lost["by_reason"]:
        out.append(f"{bullet}{row['label']}: {row['count']}")
    if pulse["objections"]:
        out.append(
            f"{bullet}top objections: "
            + ", ".join(f"{o['text']} ({o['count']})" for o in pulse["objections"][:3])
        )
    else:
        out.append(f"{bullet}no objections recorded this week")
    out.append("")

    stalled = pulse["stalled"]
    out += [
        f"{h}5. Stalled: {stalled['total']} open leads idle past their stage's limit",
        "",
    ]
    for row in stalled["by_stage"]:
        out.append(
            f"{bullet}{row['label']} (over {row['threshold_days']:g} days): {row['count']}"
        )
    out.append("")

    out += _last_decision_lines(pulse.get("last_decision"), h, bullet)
    decision = pulse.get("decision")
    out += [f"{h}Decision for next week", ""]
    out.append(
        f"{bullet}{decision['kind_label']}: {decision['text']}"
        if decision
        else f"{bullet}none recorded yet"
    )
    out.append("")
    return out


def _figure(side: dict[str, Any] | None) -> str:
    if side is None or side.get("value") is None:
        return "no figure"

    value = side["value"]
    shown = f"{100 * value:.1f}%" if isinstance(value, float) else f"{value}"
    return f"{shown} in {side['week']} (n={side['n']})"


def _last_decision_lines(
    last: dict[str, Any] | None, h: str, bullet: str
) -> list[str]:
    out = [f"{h}Last week's decision", ""]
    if last is None:
        return out + [f"{bullet}none was recorded", ""]

    out.append(f"{bullet}{last['kind_label']}: {last['text']} ({last['made_by']})")
    if last.get("metric"):
        target = last["metric_label"]
        if last.get("source"):
            target += f", source {last['source']}"
        out.append(
            f"{bullet}{target}: {_figure(last['before'])} → {_figure(last['after'])}"
        )
        out.append(f"{bullet}{last['note']}")
    return out + [""]


def compliance_lines(report: dict[str, Any], markdown: bool) -> list[str]:
    h = "## " if markdown else ""
    bullet = "- " if markdown else "  "
    out = [f"{h}Contract compliance ({report['leads']} leads)", ""]
    for figure in report["checklist"].values():
        out.append(
            f"{bullet}{figure['label']}: {_share(figure['count'], figure['of'])}"
        )
    out += [
        f"{bullet}whole handoff checklist: {_share(report['checklist_complete']['count'], report['checklist_complete']['of'])}",
        f"{bullet}lost with a reason from the list: {_share(report['lost_with_reason']['count'], report['lost_with_reason']['of'])}",
        f"{bullet}lost with a note: {_share(report['lost_with_note']['count'], report['lost_with_note']['of'])}",
        f"{bullet}date the lead came in: {_share(report['created_date_known']['count'], report['created_date_known']['of'])}",
        f"{bullet}first-contact time recorded: {_share(report['contact_time_known']['count'], report['contact_time_known']['of'])}",
    ]
    if "source_in_contract" in report:
        out.append(
            f"{bullet}source on the contract's list: {_share(report['source_in_contract']['count'], report['source_in_contract']['of'])}"
        )
    out.append("")
    return out


def import_lines(summary: dict[str, Any], markdown: bool) -> list[str]:
    h = "## " if markdown else ""
    bullet = "- " if markdown else "  "
    out = [
        f"{h}Import",
        "",
        f"{bullet}{summary['read']} rows read: {summary['created']} created, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged, {summary['rejected']} rejected"
        + (
            f", {summary['footer_rows']} footer rows skipped"
            if summary["footer_rows"]
            else ""
        )
        + f" ({summary['seconds']:.2f} s)",
    ]
    if summary.get("rejects_file"):
        out.append(f"{bullet}rejected rows and reasons: {summary['rejects_file']}")
    elif summary["rejected"]:
        for example in summary["reject_examples"][:5]:
            out.append(
                f"{bullet}row {example['row']} (line {example['line']}): {example['reason']}"
            )
    out.append("")
    return out


def warning_lines(warnings: list[dict[str, Any]], markdown: bool) -> list[str]:
    if not warnings:
        return []

    h = "## " if markdown else ""
    bullet = "- " if markdown else "  "
    out = [f"{h}Data-quality warnings", ""]
    for warning in warnings:
        line = f"{bullet}{warning['message']}"
        if warning.get("examples"):
            line += " (for example " + ", ".join(warning["examples"][:3]) + ")"
        out.append(line)
    out.append("")
    return out


def pulse_text(pulse: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return as_json(pulse)

    return "\n".join(pulse_lines(pulse, fmt == "markdown"))


def audit_text(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return as_json(report)

    markdown = fmt == "markdown"
    lines = pulse_lines(report["pulse"], markdown)
    lines += compliance_lines(report["compliance"], markdown)
    lines += import_lines(report["import"], markdown)
    lines += warning_lines(report["warnings"], markdown)
    return "\n".join(lines)
