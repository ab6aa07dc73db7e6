"""What intake and the API keep: keys, replayable requests, forms and the email index.

These live in the one leadrelay app (`app_label`), and `leadrelay.models`
imports them, so that migrations and `from leadrelay.models import ...` see
every model in one place.
"""

from __future__ import annotations

from django.db import models

__all__ = [
    "ApiKey",
    "FormSubmission",
    "IdempotentRequest",
    "IntakeForm",
    "IntakeHit",
    "KnownEmail",
]


class ApiKey(models.Model):
    """A key a script or a form tool sends; only its digest is stored.

    The key reads `lr_<prefix>_<secret>`. The prefix is public and finds the
    row; the sha256 of the whole key must then match `digest`. A revoked key
    stays, so that events and `apikey list` can still name it.
    """

    name = models.CharField(max_length=60, unique=True)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    role = models.CharField(max_length=20)
    #: How a posted payload's fields fill a lead's, as `leadrelay.api.mapping`
    #: parses it; empty for the API's own field names.
    mapping = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "leadrelay"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def actor(self) -> str:
        """Return how events name what this key did."""
        return f"key:{self.name}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotentRequest(models.Model):
    """The first answer to a request sent with an `Idempotency-Key` header.

    The row is inserted in the same transaction as the lead it makes, so two
    requests with one key cannot both get past the insert: the second waits
    for the first to commit, fails the unique constraint, and replays this.
    """

    #: Whose key space: "key:<id>" for an API key, "user:<id>" for a session.
    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    #: A digest of method, path and body: the same key with another request
    #: is refused rather than answered with the wrong result.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "leadrelay"
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_once_per_scope"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]


class KnownEmail(models.Model):
    """One lead per normalised email address, for intake's dedupe.

    The unique address is what makes two inquiries from one new person,
    arriving at once, end up as one lead: the second insert waits for the
    first to commit, fails, and adds its inquiry to the first one's lead.
    """

    address = models.CharField(max_length=254, unique=True)
    lead = models.ForeignKey(
        "leadrelay.Lead", on_delete=models.CASCADE, related_name="known_emails"
    )

    class Meta:
        app_label = "leadrelay"

    def __str__(self) -> str:
        return self.address


class IntakeForm(models.Model):
    """A public form at /f/<slug> that files inquiries under one source and campaign."""

    slug = models.SlugField(max_length=80, unique=True)
    source = models.CharField(max_length=200)
    campaign = models.CharField(max_length=200, blank=True, default="")
    #: The lead fields the form asks for, in order.
    fields = models.JSONField(default=list)
    title = models.CharField(max_length=200, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "leadrelay"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def actor(self) -> str:
        return f"form:{self.slug}"


class FormSubmission(models.Model):
    """A form render's one-time token, stored when the form is first posted.

    A double click or a browser retry posts the same token again; the unique
    constraint turns the second post into the first one's answer.
    """

    form = models.ForeignKey(IntakeForm, on_delete=models.CASCADE)
    token = models.CharField(max_length=64, unique=True)
    lead = models.ForeignKey(
        "leadrelay.Lead", on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "leadrelay"
        indexes = [models.Index(fields=["created_at"], name="submission_created")]


class IntakeHit(models.Model):
    """How many posts one client address made to the public forms in one window."""

    address = models.CharField(max_length=64)
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "leadrelay"
        constraints = [
            models.UniqueConstraint(
                fields=["address", "window"], name="intake_hit_once_per_window"
            )
        ]
        indexes = [models.Index(fields=["window"], name="intake_hit_window")]
