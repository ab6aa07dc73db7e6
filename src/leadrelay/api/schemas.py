"""The shapes the API reads and writes, as its OpenAPI schema states them.

Inputs refuse fields they do not know (422, naming each). Text is bounded to
what the database column holds and may not carry a NUL character, which
PostgreSQL cannot store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field

from leadrelay.api.mapping import text_problem


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


_STORABLE = AfterValidator(_storable)

Email = Annotated[str, Field(max_length=254), _STORABLE]
Phone = Annotated[str, Field(max_length=64), _STORABLE]
Short = Annotated[str, Field(max_length=200), _STORABLE]
Size = Annotated[str, Field(max_length=100), _STORABLE]
Long = Annotated[str, Field(max_length=500), _STORABLE]
Username = Annotated[str, Field(max_length=150), _STORABLE]
Note = Annotated[str, Field(max_length=1000), _STORABLE]
#: A key from the contract or a closed list: a stage, a reason, a channel.
Key = Annotated[str, Field(max_length=100), _STORABLE]
# Strict: lax mode would read `false` as 0 and "40" as 40; the schema says integer.
Employees = Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]

_NUMBER = re.compile(r"^\s*[+-]?\d+(\.\d*)?\s*$")


def _written_time(value: Any) -> Any:
    # Pydantic would read a bare number as seconds since 1970; the schema
    # says an ISO 8601 string, and a number here is far likelier a mistake.
    if isinstance(value, int | float | bool) or (
        isinstance(value, str) and _NUMBER.match(value)
    ):
        raise ValueError(
            "must be a date and time with its offset, e.g. 2026-05-04T09:00:00+02:00"
        )
    return value


def _in_utc(value: datetime) -> datetime:
    # PostgreSQL takes offsets up to 15:59 only; the moment is what matters.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a date and time before the year 10000") from None


#: A moment written in ISO 8601 with its offset, as the schema says.
When = Annotated[AwareDatetime, BeforeValidator(_written_time), AfterValidator(_in_utc)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class LeadFields(Strict):
    """The fields a person sets on a lead; each may be left out."""

    email: Email | None = None
    phone: Phone | None = None
    name: Short | None = None
    company: Short | None = None
    source: Short | None = Field(
        None, description="one of the contract's allowed sources"
    )
    campaign: Short | None = None
    industry: Short | None = None
    company_size: Size | None = Field(None, description="e.g. 11-50")
    employees: Employees | None = None
    location: Short | None = None
    intent: Long | None = None


class LeadIn(LeadFields):
    """A new lead; the contract's lead minimum (e.g. an email or phone) applies."""

    next_action: Long | None = None
    next_action_owner: Username | None = Field(
        None, description="a username with an active account"
    )
    next_action_due: When | None = None


class HandoffIn(Strict):
    owner: Username = Field("", description="a seller's username; or leave empty")
    team: Short = Field(
        "", description="a team's name: its rotation picks the owner, or it claims"
    )


class AssignIn(Strict):
    owner: Username = Field(description="the new owner's username")


class OutreachIn(Strict):
    channel: Key = Field(description="email, call, meeting, message or other")
    note: Note = ""


class MoveIn(Strict):
    stage: Key = Field(description="a stage key from the contract")


class ObjectionIn(Strict):
    label: Key = Field(description="an objection key from the contract")
    note: Note = Field(description="what was said")


class NextActionIn(Strict):
    text: Long
    due: When | None = Field(description="when, with a time zone offset")
    owner: Username = Field("", description="who does it (default: the owner)")


class LostIn(Strict):
    reason: Key = Field(description="a loss reason key from the contract")
    note: Note = Field(description="one sentence, under the contract's note rule")


class LeadOut(Schema):
    id: int
    external_id: str
    email: str
    phone: str
    name: str
    company: str
    source: str | None
    campaign: str
    industry: str
    company_size: str
    employees: int | None
    location: str
    intent: str
    owner: str
    next_action: str
    next_action_owner: str
    next_action_due: datetime | None
    stage: str
    created_at: datetime | None
    first_outreach_at: datetime | None
    closed_at: datetime | None
    loss_reason: str
    loss_note: str
    last_event_at: datetime | None
    updated_at: datetime


class EventOut(Schema):
    id: int
    kind: str
    at: datetime | None
    actor: str
    stage: str
    milestone: str
    data: dict[str, Any]
    contract_version: str = Field(description="first 12 hex digits of its sha256")


class LeadDetail(LeadOut):
    events: list[EventOut] = Field(description="oldest first")


class LeadPage(Schema):
    total: int = Field(description="how many leads match, on every page")
    limit: int
    offset: int
    items: list[LeadOut]


class IntakeOut(Schema):
    lead: LeadOut
    created: bool = Field(description="false when the email named a known lead")
    merged_into: int | None = Field(
        description="the known lead's id when the inquiry was added to it"
    )


class ContractOut(Schema):
    name: str
    version: str
    sha256: str
    content: dict[str, Any] = Field(description="the parsed contract")
    text: str = Field(description="the TOML as signed")


class KeyOut(Schema):
    name: str
    prefix: str
    role: str


class MeOut(Schema):
    name: str
    roles: list[str]
    via: str = Field(description='"key" or "session"')
    key: KeyOut | None


class FieldProblemOut(Schema):
    field: str
    message: str


class ErrorBody(Schema):
    code: str
    message: str
    fields: list[FieldProblemOut] | None = Field(
        None, description="for invalid input: each field and what is wrong with it"
    )
    unmet: list[str] | None = Field(
        None, description="for a refusal: every condition still needed"
    )


class ErrorOut(Schema):
    error: ErrorBody
