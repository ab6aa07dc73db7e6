"""SLA clocks as rows: one per lead and SLA each time the SLA starts for it."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q

__all__ = ["Clock"]


class Clock(models.Model):
    """One SLA clock on one lead, and what the worker still owes it.

    The deadline is fixed when the clock starts (and moved by a pause), so
    a later change to the contract does not rewrite a running promise.
    `next_action_at` is when the worker must next look at the clock: the
    warning, the deadline or the next escalation step; None when nothing is
    left to do (met, ended, paused, or every step taken).
    """

    # The (lead, sla, started_at) index below serves lookups by lead.
    lead = models.ForeignKey(
        "leadrelay.Lead",
        on_delete=models.CASCADE,
        related_name="clocks",
        db_index=False,
    )
    #: The contract's SLA key, e.g. "first_outreach".
    sla = models.CharField(max_length=50)
    #: "calendar" or "business", and the hours allowed, as the SLA said at the start.
    kind = models.CharField(max_length=10)
    within_hours = models.FloatField()
    contract_version = models.ForeignKey(
        "leadrelay.ContractVersion", on_delete=models.PROTECT, related_name="+"
    )

    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warned_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    #: The deadline, once the worker has found it passed.
    breached_at = models.DateTimeField(null=True, blank=True)
    #: Stopped unmet: the lead closed, or a reopening started a new clock.
    ended_at = models.DateTimeField(null=True, blank=True)
    #: How many steps of the SLA's escalation ladder have been taken.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    #: Clock hours spent paused so far; the deadline moves on by as many.
    paused_hours = models.FloatField(default=0.0)
    #: Who owns the lead now; escalations go to whoever it is at the time.
    owner = models.CharField(max_length=150, blank=True, default="")

    next_action_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    #: Failed tries since the last success, and what went wrong last.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        app_label = "leadrelay"
        indexes = [
            # Only clocks with something left to do are in this index, so a
            # worker tick is a range scan over the due ones.
            models.Index(
                fields=["next_action_at"],
                condition=Q(next_action_at__isnull=False),
                name="clock_next_action",
            ),
            models.Index(fields=["lead", "sla", "started_at"], name="clock_lead_sla"),
            models.Index(fields=["sla", "started_at"], name="clock_sla_started"),
        ]

    def __str__(self) -> str:
        return f"{self.sla} on lead {self.lead_id} due {self.due_at}"

    @property
    def is_running(self) -> bool:
        """Return whether the clock still waits for its first outreach."""
        return self.met_at is None and self.ended_at is None

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def was_met_in_time(self) -> bool:
        return self.met_at is not None and self.met_at <= self.due_at

    def is_missed(self, now: datetime) -> bool:
        """Return whether the deadline has passed without an outreach before it."""
        if self.met_at is not None:
            return self.met_at > self.due_at

        return not self.is_paused and self.due_at < now
