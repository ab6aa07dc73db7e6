"""How well the leads in the store keep the contract: the handoff checklist and loss rules."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from leadrelay.contract.gates import note_problem
from leadrelay.contract.model import REQUIREMENTS, Contract
from leadrelay.models import Lead


def _has(name: str) -> Q:
    """Return the condition under which a lead has a checklist item."""
    if name == "company_size":
        return ~Q(company_size="") | Q(employees__isnull=False)

    if name == "source":
        return Q(source__isnull=False) & ~Q(source="")

    if name == "next_action":
        return (
            ~Q(next_action="")
            & (~Q(next_action_owner="") | ~Q(owner=""))
            & Q(next_action_due__isnull=False)
        )

    if name == "identity":
        return ~Q(email="") | ~Q(phone="") | ~Q(external_id="")

    if name == "first_outreach":
        return Q(first_outreach_at__isnull=False)

    if name in ("loss_reason", "loss_note", "icp_fit"):
        raise ValueError(f"{name} is not a per-lead checklist field")

    return ~Q(**{name: ""})


def compliance(
    contract: Contract, leads: QuerySet[Lead] | None = None
) -> dict[str, Any]:
    leads = Lead.objects.all() if leads is None else leads
    items = [
        n
        for n in dict.fromkeys(contract.handoff)
        if n not in ("loss_reason", "loss_note", "icp_fit")
    ]
    # Aliases get a prefix: an alias named like a field would shadow it.
    aggregates: dict[str, Any] = {"n_of": Count("id")}
    for name in items:
        aggregates[f"n_{name}"] = Count("id", filter=_has(name))
    if contract.sources:
        aggregates["n_listed"] = Count("id", filter=Q(source__in=contract.sources))
    totals = {k[2:]: v for k, v in leads.aggregate(**aggregates).items()}
    of = totals.pop("of")

    checklist = {
        name: {"label": REQUIREMENTS[name], "count": totals[name], "of": of}
        for name in items
    }
    complete = leads.filter(*[_has(n) for n in items]).count() if items else of

    lost_key = contract.lost_stage.key if contract.lost_stage else None
    lost = leads.filter(stage=lost_key)
    lost_total = lost.count()
    with_reason = lost.filter(loss_reason__in=contract.loss_reason_keys()).count()
    with_note = sum(
        1
        for note in lost.values_list("loss_note", flat=True).iterator()
        if note_problem(contract, note) is None
    )

    report: dict[str, Any] = {
        "leads": of,
        "checklist": checklist,
        "checklist_complete": {"count": complete, "of": of},
        "lost_with_reason": {"count": with_reason, "of": lost_total},
        "lost_with_note": {"count": with_note, "of": lost_total},
        "created_date_known": {
            "count": leads.filter(created_at__isnull=False).count(),
            "of": of,
        },
        "contact_time_known": {
            "count": leads.filter(
                Q(contact_time_known=True) | Q(first_outreach_at__isnull=False)
            ).count(),
            "of": of,
        },
    }
    if contract.sources:
        report["source_in_contract"] = {"count": totals["listed"], "of": of}
    # The same figures flat, one key per checklist item, for scripts.
    for name, figure in checklist.items():
        report[name] = {"count": figure["count"], "of": of}

    return report
