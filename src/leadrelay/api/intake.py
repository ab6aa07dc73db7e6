"""POST /intake: an inquiry from a form tool or a webhook, posted as it is.

The key's mapping turns the payload into lead fields; the workflow then
creates the lead, or adds the inquiry to the lead its email already names.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Body, Router

from leadrelay.api import schemas as s
from leadrelay.api.auth import actor_of
from leadrelay.api.errors import Invalid
from leadrelay.api.mapping import apply
from leadrelay.api.present import lead_json
from leadrelay.api.replay import committed
from leadrelay.api.responses import errors
from leadrelay.web.contract import current
from leadrelay.workflow import ops

router = Router(tags=["intake"])

PAYLOAD = (
    "The lead fields by name (email, phone, name, company, source, campaign, "
    "industry, company_size, employees, location, intent), or, for a key made "
    "with a mapping, the form tool's own payload."
)

Payload = Annotated[dict[str, Any], Body(..., description=PAYLOAD)]


@router.post(
    "/intake",
    response={201: s.IntakeOut, 200: s.IntakeOut, **errors(400, 401, 403, 413, 422)},
)
def intake(request: HttpRequest, payload: Payload) -> HttpResponse:
    """File an inquiry: 201 with a new lead, or 200 with the known lead it joined."""
    actor = actor_of(request)
    actor.require("create")
    contract = current()
    mapping = actor.key.mapping if actor.key else {}
    values, problems = apply(mapping, payload)
    if problems:
        raise Invalid([(p.field, p.message) for p in problems])

    def work() -> tuple[int, Any]:
        lead, created = ops.take_inquiry(actor.name, contract, values)
        body = {
            "lead": lead_json(lead),
            "created": created,
            "merged_into": None if created else lead.pk,
        }
        return (201 if created else 200), body

    return committed(request, actor, work)
