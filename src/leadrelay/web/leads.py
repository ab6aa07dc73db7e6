"""One lead: its page, the new-lead form, and every action on it.

Each action is a small form posted to /leads/<id>/<action>/. The view checks
the role, parses the form and calls the workflow; a refusal comes back on the
same page, next to the form, with what the user typed still in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadrelay.contract import Contract
from leadrelay.contract.gates import missing_for_stage
from leadrelay.models import Event, Lead
from leadrelay.web import forms as f
from leadrelay.web.base import contract_context, page, require, safe_next
from leadrelay.web.pages import board_response
from leadrelay.web.timeline import entries
from leadrelay.workflow import ops, status
from leadrelay.workflow.ops import Refused
from leadrelay.workflow.roles import may

#: HTTP status of a page that shows a refused or unreadable form.
REFUSED = 422

Form = forms.Form


def _form(action: str, contract: Contract, lead: Lead, data: Any = None) -> Form:
    """Build an action's form, bound to `data` when posted, prefilled otherwise."""
    kwargs: dict[str, Any] = {"prefix": action, "label_suffix": ""}
    if action == "edit":
        return f.LeadForm(
            data, contract=contract, lead=lead, initial=f.lead_initial(lead), **kwargs
        )

    if action == "next_action":
        initial = {
            "next_action": lead.next_action,
            "next_action_owner": lead.next_action_owner,
            "next_action_due": lead.next_action_due,
        }
        return f.NextActionForm(data, initial=initial, **kwargs)

    if action == "move":
        return f.MoveForm(data, contract=contract, lead=lead, **kwargs)

    if action == "objection":
        return f.ObjectionForm(data, contract=contract, **kwargs)

    if action == "lost":
        return f.LostForm(data, contract=contract, **kwargs)

    simple: dict[str, Callable[..., Form]] = {
        "handoff": f.HandoffForm,
        "assign": f.AssignForm,
        "outreach": f.OutreachForm,
    }
    return simple.get(action, f.ConfirmForm)(data, **kwargs)


def _apply(
    action: str, form: Form, lead: Lead, actor: str, contract: Contract
) -> tuple[Lead, str]:
    """Call the workflow for one action; return the lead and what to tell the user."""
    data = form.cleaned_data
    if action == "edit":
        assert isinstance(form, f.LeadForm)
        before = lead.last_event_at
        lead = ops.update(lead, actor, contract, form.values())
        return lead, "Saved." if lead.last_event_at != before else "Nothing changed."

    if action == "next_action":
        lead = ops.set_next_action(
            lead,
            actor,
            contract,
            data["next_action"],
            data["next_action_due"],
            data["next_action_owner"],
        )
        return lead, "Next action set."

    if action == "handoff":
        assert isinstance(form, f.HandoffForm)
        team = form.chosen_team()
        lead = ops.handoff(lead, actor, contract, owner=data["owner"], team=team)
        whom = f"owner {lead.owner}" if lead.owner else "for the team to claim"
        return lead, f"Handed off to sales, {whom}."

    if action == "claim":
        return ops.claim(lead, actor, contract), "It is yours now."

    if action == "assign":
        lead = ops.assign(lead, actor, contract, data["owner"])
        return lead, f"Assigned to {lead.owner}."

    if action == "outreach":
        lead = ops.log_outreach(lead, actor, contract, data["channel"], data["note"])
        return lead, "Outreach logged."

    if action == "move":
        lead = ops.move(lead, actor, contract, data["stage"])
        return lead, f"Moved to {contract.stage(lead.stage).label}."

    if action == "objection":
        lead = ops.log_objection(lead, actor, contract, data["label"], data["note"])
        return lead, "Objection logged."

    if action == "won":
        return ops.close_won(lead, actor, contract), "Closed won."

    if action == "lost":
        lead = ops.close_lost(lead, actor, contract, data["reason"], data["note"])
        return lead, "Closed lost."

    assert action == "reopen"
    lead = ops.reopen(lead, actor, contract)
    return lead, f"Reopened, back in {contract.stage(lead.stage).label}."


#: The actions on a lead's page, in the order they are offered: each with its
#: panel's title, its button, and whether the panel starts open.
ACTIONS: dict[str, tuple[str, str, bool]] = {
    "claim": ("Claim this lead", "Claim it", True),
    "handoff": ("Hand off to sales", "Hand off", True),
    "outreach": ("Log outreach", "Log outreach", False),
    "move": ("Move to another stage", "Move", False),
    "next_action": ("Next action", "Set next action", False),
    "objection": ("Log an objection", "Log objection", False),
    "assign": ("Give it to someone else", "Assign", False),
    "won": ("Close won", "Close won", False),
    "lost": ("Close lost", "Close lost", False),
    "reopen": ("Reopen", "Reopen", True),
    "edit": ("Edit details", "Save", False),
}


@dataclass
class Panel:
    action: str
    title: str
    button: str
    form: Form
    refused: Refused | None
    open: bool


def _offered(action: str, contract: Contract, lead: Lead, handed_off: bool) -> bool:
    """Return whether the action makes sense for the lead as it is now."""
    closed = status.is_closed(contract, lead)
    if action == "edit":
        return True

    if action == "reopen":
        return lead.stage == getattr(contract.lost_stage, "key", None)

    if closed:
        return False

    if action == "handoff":
        return not handed_off

    if action == "claim":
        return handed_off and not lead.owner

    if action == "assign":
        return handed_off

    return True


def lead_response(
    request: HttpRequest,
    contract: Contract,
    lead: Lead,
    bound: dict[str, Form] | None = None,
    refusal: tuple[str, Refused] | None = None,
    status_code: int = 200,
) -> HttpResponse:
    lead.refresh_from_db()
    now = timezone.now()
    handed_off = status.is_handed_off(contract, lead)
    handoff_at = status.handoff_at(lead)
    deadline = None
    if lead.first_outreach_at is None and not status.is_closed(contract, lead):
        calendar = status.contact_calendar(contract)
        deadline = status.contact_deadline(contract, lead, calendar, handoff_at)

    offered = [
        a
        for a in ACTIONS
        if may(request.user, a) and _offered(a, contract, lead, handed_off)
    ]
    bound = bound or {}
    panels = []
    for action in offered:
        title, button, starts_open = ACTIONS[action]
        refused = refusal[1] if refusal and refusal[0] == action else None
        form = bound.get(action) or _form(action, contract, lead)
        is_open = starts_open or action in bound
        panels.append(Panel(action, title, button, form, refused, is_open))
    events = list(Event.objects.filter(lead=lead).order_by("-at", "-id"))
    stage = status.stage_of(contract, lead)
    context = {
        **contract_context(contract),
        "lead": lead,
        "stage": stage,
        "closed": status.is_closed(contract, lead),
        "stalled": status.is_stalled(contract, lead, now),
        "checklist": status.checklist(contract, lead),
        "handed_off": handed_off,
        "handoff_at": handoff_at,
        "deadline": deadline,
        "left": deadline - now if deadline else None,
        "next_stage": _next_stage_needs(contract, lead),
        "timeline": entries(events, contract),
        "panels": panels,
        "loss_label": contract.loss_reason_label(lead.loss_reason),
        "now": now,
    }
    return render(request, "leadrelay/lead.html", context, status=status_code)


def _next_stage_needs(contract: Contract, lead: Lead) -> tuple[str, list[str]] | None:
    stage = status.stage_of(contract, lead)
    if stage is None or not stage.is_open:
        return None

    later = [s for s in contract.open_stages if s.position > stage.position]
    if not later:
        return None

    target = later[0]
    return target.label, missing_for_stage(contract, target.key, lead.facts())


@page()
def lead_page(request: HttpRequest, contract: Contract, pk: int) -> HttpResponse:
    return lead_response(request, contract, get_object_or_404(Lead, pk=pk))


@require_POST
@page()
def lead_action(
    request: HttpRequest, contract: Contract, pk: int, action: str
) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(f"no action {action}")

    require(request, action)
    lead = get_object_or_404(Lead, pk=pk)
    from_board = request.POST.get("from") == "board"
    form = _form(action, contract, lead, request.POST)
    if not form.is_valid():
        if from_board:
            problems = [str(e) for errors in form.errors.values() for e in errors]
            refused = Refused(f"move of {lead}", problems)
            return board_response(request, contract, lead.pk, refused, REFUSED)
        return lead_response(request, contract, lead, {action: form}, None, REFUSED)

    try:
        lead, message = _apply(
            action, form, lead, request.user.get_username(), contract
        )
    except Refused as refused:
        if from_board:
            return board_response(request, contract, lead.pk, refused, REFUSED)
        return lead_response(
            request, contract, lead, {action: form}, (action, refused), REFUSED
        )

    messages.success(request, message)
    return redirect(safe_next(request, reverse("lead", args=[lead.pk])))


@page("create")
def new_lead(request: HttpRequest, contract: Contract) -> HttpResponse:
    refusal = None
    status_code = 200
    form = f.NewLeadForm(
        request.POST if request.method == "POST" else None,
        contract=contract,
        label_suffix="",
        initial={"next_action_owner": request.user.get_username()},
    )
    if request.method == "POST":
        status_code = REFUSED
        if form.is_valid():
            try:
                lead = ops.create(request.user.get_username(), contract, form.values())
            except Refused as exc:
                refusal = exc
            else:
                messages.success(request, "Lead added.")
                return redirect("lead", lead.pk)

    context = {**contract_context(contract), "form": form, "refusal": refusal}
    return render(request, "leadrelay/lead_new.html", context, status=status_code)
