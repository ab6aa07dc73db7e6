"""Rows as the API shows them: plain dicts in the shapes of `schemas`.

Built by hand rather than through the schema models: the intake path answers
hundreds of requests a second, and the schemathesis test checks every
answer against the committed schema all the same.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from leadrelay.contract import Contract
from leadrelay.models import Event, Lead

LEAD_FIELDS = (
    "external_id",
    "email",
    "phone",
    "name",
    "company",
    "source",
    "campaign",
    "industry",
    "company_size",
    "employees",
    "location",
    "intent",
    "owner",
    "next_action",
    "next_action_owner",
    "next_action_due",
    "stage",
    "created_at",
    "first_outreach_at",
    "closed_at",
    "loss_reason",
    "loss_note",
    "last_event_at",
    "updated_at",
)


def lead_json(lead: Lead) -> dict[str, Any]:
    out: dict[str, Any] = {"id": lead.pk}
    for name in LEAD_FIELDS:
        out[name] = getattr(lead, name)
    return out


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "at": event.at,
        "actor": event.actor,
        "stage": event.stage,
        "milestone": event.milestone,
        "data": event.data or {},
        "contract_version": event.contract_version.sha256[:12],
    }


def lead_detail(lead: Lead) -> dict[str, Any]:
    events = Event.objects.filter(lead=lead).select_related("contract_version")
    return {**lead_json(lead), "events": [event_json(e) for e in events.order_by("id")]}


def contract_json(contract: Contract) -> dict[str, Any]:
    content = asdict(contract)
    content.pop("text")
    content.pop("sha256")
    return {
        "name": contract.name,
        "version": contract.sha256[:12],
        "sha256": contract.sha256,
        "content": content,
        "text": contract.text,
    }
