"""The lead store: current state in `Lead`, every change in the append-only `Event`."""

from __future__ import annotations

from typing import Any

from django.db import models

from leadrelay.contract.gates import LeadFacts


class ContractVersion(models.Model):
    """A contract text that has been in force; events point at the one they were judged under."""

    sha256 = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    text = models.TextField()
    first_used_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} {self.sha256[:12]}"


class Lead(models.Model):
    # Where the lead came from outside: the export's record id, if any.
    external_id = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    company = models.CharField(max_length=200, blank=True, default="")
    # None means the source is missing, which is not the same as any value
    # an export might write, "unknown" included.
    source = models.CharField(max_length=200, null=True, blank=True)
    campaign = models.CharField(max_length=200, blank=True, default="")
    industry = models.CharField(max_length=200, blank=True, default="")
    company_size = models.CharField(max_length=100, blank=True, default="")
    employees = models.IntegerField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True, default="")
    intent = models.CharField(max_length=500, blank=True, default="")
    owner = models.CharField(max_length=150, blank=True, default="")
    next_action = models.CharField(max_length=500, blank=True, default="")
    next_action_owner = models.CharField(max_length=150, blank=True, default="")
    next_action_due = models.DateTimeField(null=True, blank=True)

    stage = models.CharField(max_length=50)
    # The furthest open stage the lead has reached (its position in the
    # contract), so that a lost lead still counts as having been qualified.
    reached_rank = models.SmallIntegerField(default=0)
    # None when the export does not say when the lead came in: such a lead
    # counts in the compliance report but in no week.
    created_at = models.DateTimeField(null=True, blank=True)
    first_outreach_at = models.DateTimeField(null=True, blank=True)
    # False when the lead came from an export that records no contact times:
    # its SLA outcome is unknown rather than missed.
    contact_time_known = models.BooleanField(default=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    loss_reason = models.CharField(max_length=100, blank=True, default="")
    loss_note = models.TextField(blank=True, default="")
    last_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The import that last wrote this lead, and a digest of what it wrote, so
    # that importing the same file again is recognised as unchanged.
    origin = models.CharField(max_length=100, blank=True, default="")
    fingerprint = models.CharField(max_length=40, blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["external_id"], name="lead_external_id"),
            models.Index(fields=["email"], name="lead_email"),
            models.Index(fields=["created_at"], name="lead_created_at"),
            # created_at too, so that the stalled counts and the search for
            # leads active since a moment read the index alone.
            models.Index(
                fields=["stage", "last_event_at", "created_at"], name="lead_stage_idle"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id or f"lead {self.pk}"

    def facts(self) -> LeadFacts:
        return LeadFacts(
            external_id=self.external_id,
            email=self.email,
            phone=self.phone,
            name=self.name,
            company=self.company,
            source=self.source or "",
            campaign=self.campaign,
            industry=self.industry,
            company_size=self.company_size,
            employees=self.employees,
            location=self.location,
            intent=self.intent,
            owner=self.owner,
            next_action=self.next_action,
            next_action_owner=self.next_action_owner,
            next_action_due=self.next_action_due,
            first_outreach_at=self.first_outreach_at,
            has_first_outreach=self.first_outreach_at is not None,
            loss_reason=self.loss_reason,
            loss_note=self.loss_note,
        )


class EventKind(models.TextChoices):
    CREATED = "created", "came in"
    OUTREACH = "outreach", "outreach logged"
    STAGE = "stage", "moved"
    WON = "won", "closed won"
    LOST = "lost", "closed lost"
    REOPENED = "reopened", "reopened"
    HANDOFF = "handoff", "handed off"
    OWNER = "owner", "owner set"
    OBJECTION = "objection", "objection logged"
    NEXT_ACTION = "next_action", "next action set"
    UPDATED = "updated", "fields changed"


class Milestone(models.TextChoices):
    """The first time a lead passes a point the pulse counts."""

    CONTACTED = "contacted", "first contact"
    QUALIFIED = "qualified", "first qualified"
    WON = "won", "won"
    LOST = "lost", "lost"


class Event(models.Model):
    # The (lead, at) index below serves lookups by lead; no separate one.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    # When it happened. None when the source says it happened but not when
    # (an export with a status and no date); such events never land in a week.
    at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=150)
    stage = models.CharField(max_length=50, blank=True, default="")
    milestone = models.CharField(
        max_length=20, choices=Milestone.choices, blank=True, default=""
    )
    data = models.JSONField(default=dict, blank=True)
    contract_version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT)

    class Meta:
        indexes = [
            # lead too, so that the pulse's weekly counts read the index alone.
            models.Index(fields=["kind", "at", "lead"], name="event_kind_at"),
            models.Index(fields=["milestone", "at"], name="event_milestone_at"),
            models.Index(fields=["lead", "at"], name="event_lead_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.lead_id} {self.at}"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": self.at, "actor": self.actor, **self.data}


class ImportRun(models.Model):
    """One run of `leadrelay import`: what it read and what it did."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    preset = models.CharField(max_length=100)
    files = models.JSONField(default=list)
    summary = models.JSONField(default=dict)


class Assignment(models.TextChoices):
    """How a team's new leads get their owner at the handoff."""

    ROUND_ROBIN = "round_robin", "round robin"
    MANUAL = "manual", "manual: claimed or assigned"


class Team(models.Model):
    """A sales team; admins keep its members and how it assigns leads."""

    name = models.CharField(max_length=100, unique=True)
    assignment = models.CharField(
        max_length=20, choices=Assignment.choices, default=Assignment.MANUAL
    )
    # How many leads the rotation has handed out; each member remembers the
    # turn it last took, so the rotation survives members coming and going.
    turns = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def rotates(self) -> bool:
        return self.assignment == Assignment.ROUND_ROBIN

    def next_in_rotation(self) -> TeamMember | None:
        """Return the available member whose last turn is the oldest, or None.

        Away and inactive members are passed over; on their return they take
        the next turn but do not catch up on the ones they missed.
        """
        return (
            self.members.filter(away=False, user__is_active=True)
            .select_related("user")
            .order_by("last_turn", "id")
            .first()
        )


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    # The built-in user model; leadrelay does not swap it.
    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="memberships"
    )
    away = models.BooleanField(default=False)
    last_turn = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["team", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"], name="member_once_per_team"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.username} in {self.team.name}"

    @property
    def is_available(self) -> bool:
        return not self.away and self.user.is_active


class DecisionKind(models.TextChoices):
    """What a weekly decision changes."""

    # Who marketing goes after; what the leads are told; how sales works them.
    TARGETING = "targeting", "targeting"
    MESSAGING = "messaging", "messaging"
    FOLLOW_UP = "follow_up", "follow-up"


class DecisionMetric(models.TextChoices):
    """The pulse figures a decision can name as the one it should move."""

    LEADS_IN = "leads_in", "leads in"
    QUALIFIED_COHORT_RATE = "qualified_cohort_rate", "cohort qualified rate"
    SLA_MET_RATE = "sla_met_rate", "contacted within the SLA"
    WON = "won", "closed won"
    LOST = "lost", "closed lost"


class Decision(models.Model):
    """The one decision a weekly meeting takes, with the figure it should move.

    `week` is the ISO week whose pulse the meeting read; the decision holds
    for the week after, whose pulse then shows the figure side by side.
    """

    week = models.CharField(max_length=8, unique=True)
    kind = models.CharField(max_length=20, choices=DecisionKind.choices)
    text = models.TextField()
    made_by = models.CharField(max_length=150)
    made_at = models.DateTimeField()
    metric = models.CharField(
        max_length=30, choices=DecisionMetric.choices, blank=True, default=""
    )
    # Restricts the metric to leads whose source equals this; None: all leads.
    source = models.CharField(max_length=200, null=True, blank=True)
    # The figure for `week` when the decision was made, and its sample size.
    value_at_decision = models.FloatField(null=True, blank=True)
    n_at_decision = models.IntegerField(null=True, blank=True)
    # What a replaced decision said, oldest first: the log loses nothing.
    replaced = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-week"]

    def __str__(self) -> str:
        return f"{self.week} {self.kind}: {self.text}"


from leadrelay.api.models import *  # noqa: E402,F401,F403
from leadrelay.notify.models import *  # noqa: E402,F401,F403
from leadrelay.sla.models import *  # noqa: E402,F401,F403
