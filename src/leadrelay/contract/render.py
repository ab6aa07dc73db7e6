"""The one-page funnel definition both teams sign, as Markdown or terminal text."""

from __future__ import annotations

from leadrelay.contract.model import REQUIREMENTS, WEEKDAYS, Contract


def _requirements(names: tuple[str, ...]) -> str:
    return "; ".join(REQUIREMENTS[n] for n in names) if names else "nothing"


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "any"


def markdown(contract: Contract) -> str:
    c = contract
    size = c.icp.company_size
    lines = [
        f"# {c.name}: the funnel contract",
        "",
        f"Version `{c.sha256[:12]}` · time zone {c.timezone}",
        "",
        "## Stages",
        "",
        "| # | Stage | What it means | To enter it | Stalled after |",
        "|---|---|---|---|---|",
    ]
    for stage in c.stages:
        stall = f"{stage.stall_after_days:g} days" if stage.stall_after_days else "—"
        lines.append(
            f"| {stage.position + 1} | {stage.label} | {stage.means} "
            f"| {_requirements(stage.requires)} | {stall} |"
        )

    low = size.min_employees if size.min_employees is not None else "any"
    high = size.max_employees if size.max_employees is not None else "any"
    lines += [
        "",
        "## Ideal customer profile",
        "",
        f"- Industries: {_list(c.icp.industries)}",
        f"- Company size: {low} to {high} employees",
        f"- Locations: {_list(c.icp.locations)}",
        f"- Every lead needs: {_requirements(c.lead_requires)}",
        "",
        "## Qualified",
        "",
        f"{c.qualified_means} (stage: {c.stage(c.qualified_stage).label})",
        "",
        "## Sources",
        "",
        _list(c.sources),
        "",
        "## Handoff to sales",
        "",
        f"Marketing hands a lead over when it has: {_requirements(c.handoff)}.",
        "",
        "## Clocks",
        "",
    ]
    hours = c.business_hours
    for sla in c.slas:
        clock = "business hours" if sla.clock == "business" else "calendar hours"
        start = "the lead coming in" if sla.starts == "inquiry" else "the handoff"
        lines.append(f"- {sla.label}: within {sla.within_hours:g} {clock} of {start}.")
    days = ", ".join(WEEKDAYS[d] for d in hours.days)
    lines += [
        f"- Business hours: {days}, {hours.opens:%H:%M} to {hours.closes:%H:%M} ({c.timezone}).",
        "",
        "## Losses",
        "",
        f"A lost lead needs a reason from this list and a note ({c.note_rule.replace('_', ' ')}):",
        "",
    ]
    lines += [f"- {r.label} (`{r.key}`)" for r in c.loss_reasons]
    lines += ["", "## Objections", ""]
    lines += [f"- {o.label} (`{o.key}`)" for o in c.objections] or ["- none listed"]
    to = ", ".join(c.pulse.to) if c.pulse.to else "nobody yet"
    lines += [
        "",
        "## Weekly pulse",
        "",
        f"Due {WEEKDAYS[c.pulse.day]} at {c.pulse.at:%H:%M}, sent to {to}.",
        "",
    ]
    return "\n".join(lines)


def text(contract: Contract) -> str:
    """Render for a terminal: the Markdown without its table and heading marks."""
    out = []
    for line in markdown(contract).splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            line = "  " + " · ".join(cells)
        elif line.startswith("#"):
            title = line.lstrip("# ")
            line = title.upper() if line.startswith("# ") else title
        out.append(line.replace("`", ""))

    return "\n".join(out) + "\n"
