"""Outbound messages, recorded before they are sent, and where a team's go."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

__all__ = [
    "Channel",
    "Delivery",
    "Digest",
    "Notification",
    "NotificationKind",
    "TeamRoute",
]


class NotificationKind(models.TextChoices):
    WARNING = "warning", "deadline coming up"
    BREACH = "breach", "SLA breached"
    ESCALATION = "escalation", "SLA escalated"
    DIGEST = "digest", "weekly pulse"


class Channel(models.TextChoices):
    EMAIL = "email", "email"
    CHAT = "chat", "chat"


class Delivery(models.TextChoices):
    PENDING = "pending", "pending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class Digest(models.Model):
    """The weekly pulse sent for one ISO week; the unique week sends it once."""

    week = models.CharField(max_length=8, unique=True)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    #: When its messages were recorded; they are then delivered like any other.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "leadrelay"
        ordering = ["-week"]

    def __str__(self) -> str:
        return f"pulse {self.week}"


class Notification(models.Model):
    """One message to one recipient on one channel, with its outcome.

    `key` names the occasion (this clock's breach, to this person, by
    email); it is unique, so that no occasion is recorded twice however many
    workers run. A pending row with `claimed_until` in the future is being
    sent by `claimed_by`, or waits until then for its next try.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    #: Whom it is for, as a person reads it: a username, or an address.
    recipient = models.CharField(max_length=254)
    #: Where it goes: the email address, or which webhook ("default", "team 3").
    address = models.CharField(max_length=254, blank=True, default="")
    # The (lead, created_at) index below serves lookups by lead.
    lead = models.ForeignKey(
        "leadrelay.Lead",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
    )
    clock = models.ForeignKey(
        "leadrelay.Clock",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    digest = models.ForeignKey(
        Digest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True, default="")
    #: The chat message's JSON body, as posted.
    payload = models.JSONField(default=dict, blank=True)
    #: Why it went to this recipient when that is not the obvious one
    #: ("no team lead is set for EMEA: sent to the admins").
    because = models.CharField(max_length=300, blank=True, default="")

    status = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    tried_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "leadrelay"
        indexes = [
            models.Index(
                fields=["claimed_until"],
                condition=Q(status="pending"),
                name="notification_pending",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(status="failed"),
                name="notification_failed",
            ),
            models.Index(fields=["lead", "created_at"], name="notification_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} by {self.channel}: {self.status}"

    @property
    def message_id_token(self) -> str:
        """Return what makes this message's Message-ID, the same on every try."""
        return f"notification-{self.pk}"


class TeamRoute(models.Model):
    """Where a team's alerts go: the team lead for escalations, and its chat."""

    team = models.OneToOneField(
        "leadrelay.Team", on_delete=models.CASCADE, related_name="route"
    )
    lead = models.ForeignKey(
        "auth.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    #: The team's own incoming-webhook URL; empty: the default one.
    chat_webhook_url = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        app_label = "leadrelay"

    def __str__(self) -> str:
        return f"alerts of {self.team_id}"
