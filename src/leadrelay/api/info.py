"""What the API tells about the workspace: the contract, the pulse, the caller."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from leadrelay.api import schemas as s
from leadrelay.api.auth import actor_of
from leadrelay.api.errors import Invalid, once_each, respond
from leadrelay.api.present import contract_json
from leadrelay.api.responses import errors
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week, WeekError
from leadrelay.web.contract import current

router = Router(tags=["workspace"])


class PulseQuery(Schema):
    week: s.Short | None = Field(
        None,
        description="an ISO week such as 2018-W10 (default: the last complete week)",
    )


@router.get("/pulse", response={200: dict, **errors(401, 403, 422)})
def weekly_pulse(request: HttpRequest, query: Query[PulseQuery]) -> HttpResponse:
    """The weekly pipeline pulse, as `leadrelay pulse --format json` prints it."""
    actor_of(request).require_any_role()
    once_each(request)
    contract = current()
    if query.week:
        try:
            week = Week.parse(query.week)
        except WeekError as exc:
            raise Invalid([("week", str(exc))]) from None
    else:
        week = Week.last_complete(timezone.now(), contract.tz)

    return respond(200, pulse(contract, week))


@router.get("/contract", response={200: s.ContractOut, **errors(401, 403)})
def contract_in_force(request: HttpRequest) -> HttpResponse:
    """The funnel contract in force: its parsed content, its text and its version."""
    actor_of(request).require_any_role()
    return respond(200, contract_json(current()))


@router.get("/me", response={200: s.MeOut, **errors(401)})
def me(request: HttpRequest) -> HttpResponse:
    """Who the API takes the caller to be, and the roles that gives."""
    actor = actor_of(request)
    key = actor.key
    return respond(
        200,
        {
            "name": actor.name,
            "roles": sorted(actor.roles),
            "via": "key" if key else "session",
            "key": {"name": key.name, "prefix": key.prefix, "role": key.role}
            if key
            else None,
        },
    )
