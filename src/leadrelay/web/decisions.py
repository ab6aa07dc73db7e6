"""The week's one decision: the form that records it, and the decision log.

Anyone with a role may record the decision the meeting took; the form parses
what was typed and `pulse.decisions.record` judges it. A refusal (a second
decision for the week without "replace", an unknown kind) comes back on the
page the form was posted from, next to the form, with what was typed kept.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadrelay.contract import Contract
from leadrelay.models import DecisionKind, DecisionMetric
from leadrelay.pulse import decisions
from leadrelay.pulse.decisions import DecisionError, DecisionExists
from leadrelay.pulse.week import Week, WeekError
from leadrelay.web.base import contract_context, page
from leadrelay.web.meeting import pulse_context

#: HTTP status of a page that shows a refused form, as the lead pages use.
REFUSED = 422

#: The decision log measures what followed for this many of the newest weeks.
LOG_LIMIT = 52

KIND_HELP = {
    DecisionKind.TARGETING: "who marketing goes after",
    DecisionKind.MESSAGING: "what the leads are told",
    DecisionKind.FOLLOW_UP: "how sales works them",
}

#: The figures that are shares rather than counts.
RATES = frozenset({DecisionMetric.QUALIFIED_COHORT_RATE, DecisionMetric.SLA_MET_RATE})

#: The pages the form is posted from, and their templates.
VIEWS = {"pulse": "leadrelay/pulse.html", "meeting": "leadrelay/pulse_meeting.html"}


def figure_text(metric: str | None, figure: dict[str, Any] | None) -> str:
    """Write a decision's figure for a person: "40% of 10 leads", "12 leads"."""
    if not metric or figure is None:
        return ""

    value, n = figure.get("value"), figure.get("n")
    if metric in RATES:
        if value is None:
            return "n/a (no leads to measure)"
        return f"{100 * value:.0f}% of {n}"

    count = int(value or 0)
    return f"{count} lead" if count == 1 else f"{count} leads"


class DecisionForm(forms.Form):
    """What the meeting decided. Nothing is required here: `record` says what is missing."""

    week = forms.CharField(widget=forms.HiddenInput, required=False)
    view = forms.CharField(widget=forms.HiddenInput, required=False)
    kind = forms.CharField(
        label="Kind",
        required=False,
        widget=forms.RadioSelect(
            choices=[
                (k.value, f"{k.label.capitalize()}: {KIND_HELP[k]}")
                for k in DecisionKind
            ]
        ),
    )
    text = forms.CharField(
        label="What we decided",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One sentence someone can act on this week.",
    )
    metric = forms.CharField(
        label="Figure it should move",
        required=False,
        help_text="Optional. Next week's pulse shows it beside this week's.",
        widget=forms.Select(
            choices=[("", "none")] + [(m.value, m.label) for m in DecisionMetric]
        ),
    )
    source = forms.CharField(
        label="Only for source",
        required=False,
        help_text="Optional: measure the figure on one source's leads.",
        widget=forms.Select(),
    )
    replace = forms.BooleanField(
        label="Replace the decision already recorded for this week",
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        contract: Contract,
        sources: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "decision_%s")
        super().__init__(*args, **kwargs)
        names = list(dict.fromkeys([*contract.sources, *(sources or [])]))
        typed = self.data.get("source") if self.is_bound else None
        if typed and typed not in names:
            names.append(typed)
        widget = self.fields["source"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", "all sources")] + [(s, s) for s in names]


@require_POST
@page()
def record(request: HttpRequest, contract: Contract) -> HttpResponse:
    form = DecisionForm(request.POST, contract=contract)
    form.is_valid()
    data = form.cleaned_data
    view = str(data.get("view") or "")
    if view not in VIEWS:
        view = "pulse"

    try:
        decision = decisions.record(
            data.get("week") or "",
            data.get("kind") or "",
            data.get("text") or "",
            request.user.get_username(),
            metric=data.get("metric") or None,
            source=data.get("source") or None,
            replace=bool(data.get("replace")),
            contract=contract,
        )
    except DecisionError as exc:
        return _refused(request, contract, form, view, exc)

    what = "Replaced" if decision.replaced and data.get("replace") else "Recorded"
    messages.success(
        request, f"{what} the decision for the week after {decision.week}."
    )
    # From the meeting too: the pulse page shows the week with its decision.
    return redirect(f"{reverse('pulse')}?week={decision.week}#decision")


def _refused(
    request: HttpRequest,
    contract: Contract,
    form: DecisionForm,
    view: str,
    exc: DecisionError,
) -> HttpResponse:
    """Show the page again with the refusal next to the form and the typing kept."""
    field = exc.field if exc.field in ("kind", "text", "metric", "source") else None
    message = str(exc)
    if isinstance(exc, DecisionExists):
        message += '. Tick "replace" to put this one in its place.'
    form.add_error(field, message)

    try:
        week = Week.parse(form.cleaned_data.get("week") or "")
    except WeekError:
        week = Week.last_complete(timezone.now(), contract.tz)
    context = pulse_context(contract, week, view=view, form=form, refusal=message)
    context["error"] = ""
    return render(request, VIEWS[view], context, status=REFUSED)


@page()
def decision_log(request: HttpRequest, contract: Contract) -> HttpResponse:
    now = timezone.now()
    every = decisions.log()
    rows = []
    for index, decision in enumerate(every[:LOG_LIMIT]):
        week = Week.parse(decision["week"])
        following = week.next()
        row = {
            **decision,
            "following": following,
            "at_text": figure_text(decision["metric"], decision["at_decision"]),
            "in_progress": following.bounds(contract.tz)[1] > now,
            "newest": index == 0,
        }
        if decision["metric"]:
            followed = decisions.for_pulse(contract, following, now=now) or {}
            row["before_text"] = figure_text(decision["metric"], followed.get("before"))
            row["after_text"] = figure_text(decision["metric"], followed.get("after"))
        rows.append(row)

    context = {
        **contract_context(contract),
        "decisions": rows,
        "total": len(every),
        "note": decisions.NOTE,
    }
    return render(request, "leadrelay/decisions.html", context)
