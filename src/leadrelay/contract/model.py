"""The funnel contract as plain data: what both teams agreed on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

#: What a stage, the handoff or the lead minimum may require, and how a
#: missing one is named to a person.
REQUIREMENTS: dict[str, str] = {
    "identity": "an email, a phone or a record id",
    "email": "email",
    "phone": "phone",
    "name": "name",
    "company": "company",
    "source": "source",
    "campaign": "campaign",
    "industry": "ICP tag industry",
    "company_size": "ICP tag company size",
    "location": "ICP tag location",
    "icp_fit": "a fit with the ideal customer profile",
    "intent": "intent",
    "owner": "an owner",
    "next_action": "next action with owner and due time",
    "first_outreach": "a logged first outreach",
    "loss_reason": "a loss reason from the contract's list",
    "loss_note": "a one-sentence note",
}

#: The checklist items the compliance report counts, in this order.
CHECKLIST_ITEMS = (
    "source",
    "industry",
    "company_size",
    "location",
    "intent",
    "next_action",
)

OUTCOMES = ("won", "lost")
SLA_STARTS = ("inquiry", "handoff")
#: How a handoff that names no owner picks one: as the team is set up, by
#: round robin over the team's available members, or not at all (claimed).
ASSIGNMENTS = ("team", "round_robin", "manual")
CLOCKS = ("calendar", "business")
NOTE_RULES = ("one_sentence", "required", "optional")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Whom a step of an SLA's escalation ladder tells.
ESCALATE_TO = ("owner", "team_lead", "admins")


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    means: str
    requires: tuple[str, ...]
    stall_after_days: float | None
    outcome: str | None
    skippable: bool
    position: int

    @property
    def is_open(self) -> bool:
        return self.outcome is None


@dataclass(frozen=True)
class SizeRange:
    min_employees: int | None
    max_employees: int | None

    def admits(self, employees: int) -> bool:
        if self.min_employees is not None and employees < self.min_employees:
            return False

        return self.max_employees is None or employees <= self.max_employees


@dataclass(frozen=True)
class Icp:
    industries: tuple[str, ...]
    company_size: SizeRange
    locations: tuple[str, ...]


@dataclass(frozen=True)
class BusinessHours:
    days: tuple[int, ...]
    opens: time
    closes: time
    holidays: tuple[str, ...]
    #: Public holidays of this country (ISO 3166-1), and of this region of
    #: it (ISO 3166-2 subdivision), on top of the listed dates.
    holidays_country: str | None = None
    holidays_region: str | None = None


@dataclass(frozen=True)
class Escalation:
    """One step of an SLA's ladder: whom to tell, this many clock hours after the deadline."""

    after_hours: float
    to: str


#: The ladder of an SLA that names none: the owner at the deadline, the team
#: lead four clock hours later.
DEFAULT_ESCALATION = (Escalation(0.0, "owner"), Escalation(4.0, "team_lead"))


@dataclass(frozen=True)
class Sla:
    key: str
    label: str
    starts: str
    within_hours: float
    clock: str
    #: Warn the owner this many clock hours before the deadline; None: no warning.
    warn_before_hours: float | None = None
    #: Whether a person may stop the clock for a while (waiting on the customer).
    pausable: bool = False
    escalate: tuple[Escalation, ...] = DEFAULT_ESCALATION


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class PulseSchedule:
    day: int
    at: time
    to: tuple[str, ...]
    #: Whether the digest is also posted to the chat webhook.
    chat: bool = False


@dataclass(frozen=True)
class Contract:
    name: str
    timezone: str
    stages: tuple[Stage, ...]
    icp: Icp
    lead_requires: tuple[str, ...]
    qualified_stage: str
    qualified_means: str
    sources: tuple[str, ...]
    handoff: tuple[str, ...]
    slas: tuple[Sla, ...]
    business_hours: BusinessHours
    loss_reasons: tuple[Choice, ...]
    note_rule: str
    objections: tuple[Choice, ...]
    pulse: PulseSchedule
    # The team a handoff goes to when it names none, and how it picks an owner.
    handoff_team: str = ""
    handoff_assign: str = "team"
    text: str = field(repr=False, default="")
    sha256: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage

        raise KeyError(key)

    def has_stage(self, key: str) -> bool:
        return any(stage.key == key for stage in self.stages)

    @property
    def first_stage(self) -> Stage:
        return self.stages[0]

    @property
    def won_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.outcome == "won"), None)

    @property
    def lost_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.outcome == "lost"), None)

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.is_open)

    def rank(self, key: str) -> int:
        """Return how far along the funnel a stage is; lost ranks lowest."""
        stage = self.stage(key)
        if stage.outcome == "lost":
            return -1

        return stage.position

    @property
    def qualified_rank(self) -> int:
        return self.rank(self.qualified_stage)

    def loss_reason_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.loss_reasons)

    def objection_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.objections)

    def loss_reason_label(self, key: str) -> str:
        return next((c.label for c in self.loss_reasons if c.key == key), key)

    def objection_label(self, key: str) -> str:
        return next((c.label for c in self.objections if c.key == key), key)

    @property
    def first_outreach_sla(self) -> Sla | None:
        return self.slas[0] if self.slas else None

    def sla(self, key: str) -> Sla | None:
        return next((s for s in self.slas if s.key == key), None)
