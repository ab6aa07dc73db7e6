"""The public forms: /f/<slug> files an inquiry under the form's source and campaign.

Each render carries a signed, one-time submission token. Posting it stores
it (unique) in the same transaction as the lead, so a double click or a
retry files one inquiry and shows the same thanks. Guards, in order: the
rate limit per client address (a counter row per address and window, so it
holds across web processes), the honeypot field, the token, the fields.

/f/<slug> is a page of its own, protected by Django's CSRF cookie and token.
/f/<slug>/embed is the same form for an iframe on a company's own site: a
browser sends no leadrelay cookie into a third-party frame, so there the
signed token, bound to the form and valid for a day, is what a post must
carry, and the page may be framed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from leadrelay.api.replay import writing
from leadrelay.contract import ContractError
from leadrelay.models import FormSubmission, IntakeForm, IntakeHit
from leadrelay.web.contract import current
from leadrelay.workflow import ops
from leadrelay.workflow.ops import Refused

#: The fields a form may ask for, with their labels, in the order offered.
FIELDS: dict[str, str] = {
    "email": "Email",
    "name": "Name",
    "company": "Company",
    "phone": "Phone",
    "intent": "What can we help with?",
    "industry": "Industry",
    "company_size": "Company size",
    "employees": "Employees",
    "location": "Location",
}
DEFAULT_FIELDS = ("email", "name", "company", "intent")

#: How long a rendered form can be sent.
TOKEN_MAX_AGE = timedelta(days=1)
HONEYPOT = "website"
_SALT = "leadrelay.intake.form"


class InquiryForm(forms.Form):
    """The fields one intake form asks for; a way to reply is required."""

    def __init__(self, *args: Any, wanted: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in wanted:
            self.fields[name] = _field(name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        replies = [n for n in ("email", "phone") if n in self.fields]
        if replies and not any(data.get(n) for n in replies):
            if len(replies) == 2:
                self.add_error("email", "Give an email or a phone number to reply to.")
            else:
                name = replies[0]
                self.add_error(name, f"Enter your {FIELDS[name].lower()}.")
        return data

    def values(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in ("", None)
        }


def _field(name: str) -> forms.Field:
    label = FIELDS[name]
    if name == "email":
        return forms.EmailField(label=label, required=False, max_length=254)

    if name == "employees":
        return forms.IntegerField(
            label=label, required=False, min_value=0, max_value=1_000_000_000
        )

    if name == "intent":
        return forms.CharField(
            label=label,
            required=False,
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 4}),
        )

    limit = {"phone": 64, "company_size": 100}.get(name, 200)
    return forms.CharField(label=label, required=False, max_length=limit)


def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _serve(request, slug, embed=False)


@csrf_exempt
@xframe_options_exempt
def embed_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _serve(request, slug, embed=True)


def _serve(request: HttpRequest, slug: str, embed: bool) -> HttpResponse:
    intake = IntakeForm.objects.filter(slug=slug, active=True).first()
    if intake is None:
        raise Http404("No form has that address.")

    page = _Page(request, intake, embed)
    if request.method != "POST":
        return page.form(InquiryForm(wanted=intake.fields, label_suffix=""))

    if _over_limit(client_address(request)):
        return page.message(
            "Too many forms sent from your address. Please try again later.", 429
        )

    if request.POST.get(HONEYPOT):
        # A bot filled in the field people cannot see: thank it, keep nothing.
        return page.thanks()

    form = InquiryForm(request.POST, wanted=intake.fields, label_suffix="")
    token = _token_of(request.POST.get("token", ""), intake)
    if token is None:
        problem = "This form was open too long. Please check it and send it again."
        return page.form(form, [problem], status=400)

    if not form.is_valid():
        return page.form(form, status=422)

    try:
        contract = current()
    except ContractError:
        return page.message("This form cannot take inquiries right now.", 503)

    values = {**form.values(), "source": intake.source, "campaign": intake.campaign}
    try:
        _file(intake, token, contract, values)
    except Refused as refused:
        return page.form(form, refused.reasons, status=422)

    return page.thanks()


def _file(
    intake: IntakeForm, token: str, contract: Any, values: dict[str, Any]
) -> None:
    """File the inquiry once per token: a second post of it files nothing."""
    with writing():
        try:
            with transaction.atomic():
                submission = FormSubmission.objects.create(form=intake, token=token)
        except IntegrityError:
            return

        lead, _ = ops.take_inquiry(intake.actor, contract, values)
        submission.lead = lead
        submission.save(update_fields=["lead"])


class _Page:
    def __init__(self, request: HttpRequest, intake: IntakeForm, embed: bool) -> None:
        self.request = request
        self.intake = intake
        self.embed = embed

    def _render(self, context: dict[str, Any], status: int) -> HttpResponse:
        context = {
            "intake": self.intake,
            "title": self.intake.title or self.intake.campaign or "Get in touch",
            "embed": self.embed,
            "honeypot": HONEYPOT,
            **context,
        }
        template = "leadrelay/intake/form.html"
        return render(self.request, template, context, status=status)

    def form(
        self, form: InquiryForm, problems: list[str] | None = None, status: int = 200
    ) -> HttpResponse:
        token = signing.dumps(
            {"f": self.intake.pk, "n": secrets.token_hex(16)}, salt=_SALT
        )
        context = {"form": form, "token": token, "problems": problems or []}
        return self._render(context, status)

    def thanks(self) -> HttpResponse:
        return self._render({"done": "Thank you. We will be in touch soon."}, 200)

    def message(self, text: str, status: int) -> HttpResponse:
        return self._render({"stopped": text}, status)


def _token_of(text: str, intake: IntakeForm) -> str | None:
    """Return a valid token's nonce for this form, or None."""
    try:
        data = signing.loads(text, salt=_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None

    if not isinstance(data, dict) or data.get("f") != intake.pk:
        return None

    nonce = data.get("n")
    return nonce if isinstance(nonce, str) and len(nonce) == 32 else None


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:64]


def _over_limit(address: str) -> bool:
    """Count this post against its address's window; say whether it is one too many."""
    rate = settings.FORM_RATE_LIMIT
    if rate.count == 0:
        return False

    now = timezone.now().timestamp()
    start = datetime.fromtimestamp(now - now % rate.seconds, tz=UTC)
    with writing():
        hit, new = IntakeHit.objects.get_or_create(address=address, window=start)
        if new:
            stale = start - timedelta(seconds=rate.seconds)
            IntakeHit.objects.filter(window__lt=stale).delete()
        # The UPDATE locks the row on PostgreSQL, so concurrent posts from
        # one address count one after another, from any web process.
        IntakeHit.objects.filter(pk=hit.pk).update(count=F("count") + 1)
        count = IntakeHit.objects.values_list("count", flat=True).get(pk=hit.pk)

    return count > rate.count


urlpatterns: list[URLPattern] = [
    path("<slug:slug>", form_page, name="intake_form"),
    path("<slug:slug>/embed", embed_page, name="intake_form_embed"),
]
