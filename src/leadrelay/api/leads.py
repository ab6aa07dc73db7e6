"""/leads: list, read, create, edit, and every workflow operation on one lead.

Each handler checks the caller's role, calls `workflow.ops`, and answers
with the lead as it is after the change. A refusal is the workflow's own,
answered 422 with every unmet condition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema
from pydantic import Field

from leadrelay.api import schemas as s
from leadrelay.api.auth import actor_of
from leadrelay.api.errors import once_each, respond
from leadrelay.api.present import lead_detail, lead_json
from leadrelay.api.replay import committed
from leadrelay.api.responses import errors
from leadrelay.contract import Contract
from leadrelay.models import Lead, Team
from leadrelay.web.contract import current
from leadrelay.workflow import ops
from leadrelay.workflow.ops import Refused

router = Router(tags=["leads"])

ONE = {200: s.LeadOut, **errors(400, 401, 403, 404, 413, 422)}
#: A lead's id: the bounds keep an out-of-range number from the database.
LeadId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class LeadFilters(Schema):
    stage: s.Key | None = Field(None, description="a stage key")
    source: s.Short | None = None
    owner: s.Username | None = Field(None, description="a username")
    updated_since: s.When | None = Field(
        None, description="changed at or after this time, with its offset"
    )
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000_000)


@router.get("/leads", response={200: s.LeadPage, **errors(401, 403, 422)})
def list_leads(request: HttpRequest, filters: Query[LeadFilters]) -> HttpResponse:
    """List leads, newest first, with the total that match."""
    actor_of(request).require_any_role()
    once_each(request)
    leads = Lead.objects.all()
    for name in ("stage", "source", "owner"):
        value = getattr(filters, name)
        if value is not None:
            leads = leads.filter(**{name: value})
    if filters.updated_since is not None:
        leads = leads.filter(updated_at__gte=filters.updated_since)

    page = leads.order_by("-id")[filters.offset : filters.offset + filters.limit]
    return respond(
        200,
        {
            "total": leads.count(),
            "limit": filters.limit,
            "offset": filters.offset,
            "items": [lead_json(lead) for lead in page],
        },
    )


@router.post("/leads", response={201: s.LeadOut, **errors(400, 401, 403, 413, 422)})
def create_lead(request: HttpRequest, payload: s.LeadIn) -> HttpResponse:
    """Add a lead in the contract's first stage; the contact clock starts now."""
    actor = actor_of(request)
    actor.require("create")
    contract = current()
    fields = payload.model_dump(exclude_unset=True)

    def work() -> tuple[int, object]:
        return 201, lead_json(ops.create(actor.name, contract, fields))

    return committed(request, actor, work)


@router.get(
    "/leads/{lead_id}", response={200: s.LeadDetail, **errors(401, 403, 404, 422)}
)
def read_lead(request: HttpRequest, lead_id: LeadId) -> HttpResponse:
    """Read one lead with its events, oldest first."""
    actor_of(request).require_any_role()
    return respond(200, lead_detail(_lead(lead_id)))


@router.patch("/leads/{lead_id}", response=ONE)
def update_lead(
    request: HttpRequest, lead_id: LeadId, payload: s.LeadFields
) -> HttpResponse:
    """Change the fields given; an edit that changes nothing writes nothing."""
    fields = payload.model_dump(exclude_unset=True)
    return _act(
        request, lead_id, "edit", lambda a, c, lead: ops.update(lead, a, c, fields)
    )


@router.post("/leads/{lead_id}/handoff", response=ONE)
def handoff(
    request: HttpRequest, lead_id: LeadId, payload: s.HandoffIn
) -> HttpResponse:
    """Hand the lead to sales once the contract's handoff checklist holds."""

    def run(actor: str, contract: Contract, lead: Lead) -> Lead:
        team = None
        if payload.team:
            team = Team.objects.filter(name=payload.team).first()
            if team is None:
                names = ", ".join(Team.objects.values_list("name", flat=True))
                raise Refused(
                    "handoff",
                    [f'a team that exists ("{payload.team}" is not one of: {names})'],
                )
        return ops.handoff(lead, actor, contract, owner=payload.owner, team=team)

    return _act(request, lead_id, "handoff", run)


@router.post("/leads/{lead_id}/claim", response=ONE)
def claim(request: HttpRequest, lead_id: LeadId) -> HttpResponse:
    """Become the owner of a handed-off lead nobody owns; of two at once, one wins."""
    return _act(request, lead_id, "claim", lambda a, c, lead: ops.claim(lead, a, c))


@router.post("/leads/{lead_id}/assign", response=ONE)
def assign(request: HttpRequest, lead_id: LeadId, payload: s.AssignIn) -> HttpResponse:
    """Give a lead sales has to another owner."""
    return _act(
        request,
        lead_id,
        "assign",
        lambda a, c, lead: ops.assign(lead, a, c, payload.owner),
    )


@router.post("/leads/{lead_id}/outreach", response=ONE)
def outreach(
    request: HttpRequest, lead_id: LeadId, payload: s.OutreachIn
) -> HttpResponse:
    """Log a contact attempt; the first one stops the contact clock."""
    return _act(
        request,
        lead_id,
        "outreach",
        lambda a, c, lead: ops.log_outreach(lead, a, c, payload.channel, payload.note),
    )


@router.post("/leads/{lead_id}/move", response=ONE)
def move(request: HttpRequest, lead_id: LeadId, payload: s.MoveIn) -> HttpResponse:
    """Move the lead to another open stage, or to Won, through the stage's gate."""
    return _act(
        request, lead_id, "move", lambda a, c, lead: ops.move(lead, a, c, payload.stage)
    )


@router.post("/leads/{lead_id}/objection", response=ONE)
def objection(
    request: HttpRequest, lead_id: LeadId, payload: s.ObjectionIn
) -> HttpResponse:
    """Log an objection heard, with a label from the contract and a note."""
    return _act(
        request,
        lead_id,
        "objection",
        lambda a, c, lead: ops.log_objection(lead, a, c, payload.label, payload.note),
    )


@router.post("/leads/{lead_id}/next-action", response=ONE)
def next_action(
    request: HttpRequest, lead_id: LeadId, payload: s.NextActionIn
) -> HttpResponse:
    """Say what happens next, who does it and by when."""
    return _act(
        request,
        lead_id,
        "next_action",
        lambda a, c, lead: ops.set_next_action(
            lead, a, c, payload.text, payload.due, payload.owner
        ),
    )


@router.post("/leads/{lead_id}/won", response=ONE)
def close_won(request: HttpRequest, lead_id: LeadId) -> HttpResponse:
    """Close the lead won."""
    return _act(request, lead_id, "won", lambda a, c, lead: ops.close_won(lead, a, c))


@router.post("/leads/{lead_id}/lost", response=ONE)
def close_lost(
    request: HttpRequest, lead_id: LeadId, payload: s.LostIn
) -> HttpResponse:
    """Close the lead lost, with a reason from the contract's list and a note."""
    return _act(
        request,
        lead_id,
        "lost",
        lambda a, c, lead: ops.close_lost(lead, a, c, payload.reason, payload.note),
    )


@router.post("/leads/{lead_id}/reopen", response=ONE)
def reopen(request: HttpRequest, lead_id: LeadId) -> HttpResponse:
    """Bring a lost lead back to the open stage it was lost from."""
    return _act(request, lead_id, "reopen", lambda a, c, lead: ops.reopen(lead, a, c))


Operation = Callable[[str, Contract, Lead], Lead]


def _act(
    request: HttpRequest, lead_id: int, action: str, operation: Operation
) -> HttpResponse:
    actor = actor_of(request)
    actor.require(action)
    contract = current()
    lead = _lead(lead_id)

    def work() -> tuple[int, object]:
        return 200, lead_json(operation(actor.name, contract, lead))

    return committed(request, actor, work)


def _lead(lead_id: int) -> Lead:
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        raise Http404(f"No lead has the id {lead_id}.")
    return lead
