"""The forms behind each action. They parse what was typed; the workflow judges it.

No field is required here: a form only turns text into values (a number, a
time), and the workflow's refusal names what is missing, in the same words
the API and the command line use.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from leadrelay.contract import Contract
from leadrelay.models import Assignment, Lead, Team
from leadrelay.workflow.ops import OUTREACH_CHANNELS
from leadrelay.workflow.roles import ROLES, possible_owners

Choices = list[tuple[str, str]]


class DueField(forms.DateTimeField):
    """A date and time typed in the contract's time zone."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
    )


def _text(label: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, **kwargs)


def _owner_choices(blank: str) -> Choices:
    return [("", blank)] + [(u.username, _person(u)) for u in possible_owners()]


def _person_choices(blank: str) -> Choices:
    people = User.objects.filter(is_active=True).order_by("username")
    return [("", blank)] + [(u.username, _person(u)) for u in people]


def _choose(form: forms.Form, name: str, choices: Choices) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _person(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


class LeadForm(forms.Form):
    name = _text("Name", max_length=200)
    company = _text("Company", max_length=200)
    email = _text("Email", max_length=254, widget=forms.EmailInput)
    phone = _text("Phone", max_length=64)
    source = forms.ChoiceField(label="Source", required=False)
    campaign = _text("Campaign", max_length=200)
    industry = _text("Industry", max_length=200)
    company_size = _text("Company size", max_length=100, help_text="e.g. 11-50")
    employees = forms.IntegerField(label="Employees", required=False)
    location = _text("Location", max_length=200)
    intent = _text(
        "Intent",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the person wants, in their words.",
    )

    def __init__(
        self, *args: Any, contract: Contract, lead: Lead | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        sources = [(s, s) for s in contract.sources]
        if lead is not None and lead.source and lead.source not in contract.sources:
            # An imported lead keeps the value its export gave until someone changes it.
            sources.append((lead.source, f"{lead.source} (not on the contract's list)"))
        _choose(self, "source", [("", "— none yet —"), *sources])
        # The profile's industries are offered as suggestions (a datalist).
        self.industries = contract.icp.industries
        if self.industries:
            self.fields["industry"].widget.attrs["list"] = "industries"

    def values(self) -> dict[str, Any]:
        """Return the lead fields to hand to the workflow."""
        return {name: self.cleaned_data[name] for name in LEAD_FIELDS}


LEAD_FIELDS = tuple(LeadForm.base_fields)


def lead_initial(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in LEAD_FIELDS}


class NextActionForm(forms.Form):
    next_action = _text("Next action", max_length=500)
    next_action_owner = forms.ChoiceField(label="Who does it", required=False)
    next_action_due = DueField(label="Due", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choose(self, "next_action_owner", _person_choices("— the lead's owner —"))


class NewLeadForm(LeadForm, NextActionForm):
    """A new lead with everything the handoff checklist asks for, in one go."""

    field_order = [*LEAD_FIELDS, *NextActionForm.base_fields]

    def values(self) -> dict[str, Any]:
        values = super().values()
        for name in NextActionForm.base_fields:
            values[name] = self.cleaned_data[name]
        return values


class HandoffForm(forms.Form):
    team = forms.ChoiceField(label="Team", required=False)
    owner = forms.ChoiceField(label="Owner", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = list(Team.objects.all())
        choices = [("", "— no team —")]
        for team in teams:
            how = "round robin" if team.rotates else "members claim it"
            choices.append((str(team.pk), f"{team.name} ({how})"))
        _choose(self, "team", choices)
        if teams:
            self.fields["team"].initial = str(teams[0].pk)
        _choose(self, "owner", _owner_choices("— the team's turn, or a claim —"))

    def chosen_team(self) -> Team | None:
        pk = self.cleaned_data["team"]
        return Team.objects.filter(pk=pk).first() if pk else None


class AssignForm(forms.Form):
    owner = forms.ChoiceField(label="New owner", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choose(self, "owner", _owner_choices("— choose —"))


class OutreachForm(forms.Form):
    channel = forms.ChoiceField(
        label="How", required=False, choices=list(OUTREACH_CHANNELS.items())
    )
    note = _text("Note", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class MoveForm(forms.Form):
    stage = forms.ChoiceField(label="Move to", required=False)

    def __init__(
        self, *args: Any, contract: Contract, lead: Lead, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        stages = [
            (s.key, s.label)
            for s in contract.stages
            if s.key != lead.stage and s.outcome != "lost"
        ]
        _choose(self, "stage", stages)


class ObjectionForm(forms.Form):
    label = forms.ChoiceField(label="Objection", required=False)
    note = _text(
        "What was said", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, contract: Contract, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = [(c.key, c.label) for c in contract.objections]
        _choose(self, "label", [("", "— choose —"), *labels])


class LostForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", required=False)
    note = _text(
        "Note",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One sentence: what happened, in words marketing can use.",
    )

    def __init__(self, *args: Any, contract: Contract, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reasons = [(c.key, c.label) for c in contract.loss_reasons]
        _choose(self, "reason", [("", "— choose a reason —"), *reasons])
        if contract.note_rule == "optional":
            self.fields["note"].help_text = "Optional."


class ConfirmForm(forms.Form):
    """An action that takes no input: claim, close won, reopen."""


# -- people and teams ------------------------------------------------------------


def _role_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Roles",
        required=False,
        choices=[(r, r) for r in ROLES],
        widget=forms.CheckboxSelectMultiple,
    )


class PersonForm(forms.Form):
    username = _text("Username", max_length=150)
    email = _text("Email", max_length=254, widget=forms.EmailInput)
    password = _text("Password", max_length=128, widget=forms.PasswordInput)
    roles = _role_field()


class RolesForm(forms.Form):
    roles = _role_field()


class PasswordForm(forms.Form):
    password = _text("New password", max_length=128, widget=forms.PasswordInput)


class TeamForm(forms.Form):
    name = _text("Name", max_length=100)
    assignment = forms.ChoiceField(
        label="New leads", choices=Assignment.choices, initial=Assignment.ROUND_ROBIN
    )


class AssignmentForm(forms.Form):
    assignment = forms.ChoiceField(label="New leads", choices=Assignment.choices)


class MemberForm(forms.Form):
    username = forms.ChoiceField(label="Add a member", required=False)

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inside = set(team.members.values_list("user__username", flat=True))
        people = [
            (u.username, _person(u))
            for u in possible_owners()
            if u.username not in inside
        ]
        _choose(self, "username", [("", "— choose —"), *people])
