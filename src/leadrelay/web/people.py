"""Admin pages: people with their roles, and the teams that share out leads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leadrelay.contract import Contract
from leadrelay.models import Team, TeamMember
from leadrelay.web import forms as f
from leadrelay.web.base import page
from leadrelay.workflow import people as p
from leadrelay.workflow.ops import Refused
from leadrelay.workflow.roles import roles_of

REFUSED = 422


def _people_context(form: f.PersonForm, refusal: Refused | None) -> dict[str, Any]:
    users = User.objects.order_by("username").prefetch_related(
        "groups",
        Prefetch("memberships", queryset=TeamMember.objects.select_related("team")),
    )
    rows = [(user, sorted(roles_of(user)) if user.is_active else []) for user in users]
    return {"rows": rows, "form": form, "refusal": refusal}


def _admin(request: HttpRequest) -> User:
    # `page` has already let only signed-in admins through.
    assert isinstance(request.user, User)
    return request.user


@page("manage")
def people(request: HttpRequest, contract: Contract) -> HttpResponse:
    form = f.PersonForm(request.POST or None, label_suffix="")
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = p.create_person(
                data["username"], data["password"], data["roles"], data["email"]
            )
        except Refused as exc:
            refusal = exc
        else:
            messages.success(request, f"Added {user.username}.")
            return redirect("people")

    status = REFUSED if request.method == "POST" else 200
    return render(
        request, "leadrelay/people.html", _people_context(form, refusal), status=status
    )


@page("manage")
def person(request: HttpRequest, contract: Contract, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    refusal = None
    roles_form = f.RolesForm(
        initial={"roles": sorted(roles_of(user))}, prefix="roles", label_suffix=""
    )
    password_form = f.PasswordForm(prefix="password", label_suffix="")
    if request.method == "POST":
        what = request.POST.get("what")
        try:
            if what == "roles":
                roles_form = f.RolesForm(request.POST, prefix="roles", label_suffix="")
                if roles_form.is_valid():
                    p.set_roles(
                        user, roles_form.cleaned_data["roles"], by=_admin(request)
                    )
                    messages.success(request, f"Roles of {user.username} saved.")
                    return redirect("person", user.pk)
            elif what == "password":
                password_form = f.PasswordForm(
                    request.POST, prefix="password", label_suffix=""
                )
                if password_form.is_valid():
                    p.set_password(user, password_form.cleaned_data["password"])
                    messages.success(request, f"Password of {user.username} changed.")
                    return redirect("person", user.pk)
            elif what in ("activate", "deactivate"):
                p.set_active(user, what == "activate", by=_admin(request))
                messages.success(request, f"{user.username} {what}d.")
                return redirect("person", user.pk)
        except Refused as exc:
            refusal = exc

    context = {
        "person": user,
        "person_roles": sorted(roles_of(user)) if user.is_active else [],
        "memberships": user.memberships.select_related("team"),
        "roles_form": roles_form,
        "password_form": password_form,
        "refusal": refusal,
    }
    status = REFUSED if request.method == "POST" else 200
    return render(request, "leadrelay/person.html", context, status=status)


@page("manage")
def teams(request: HttpRequest, contract: Contract) -> HttpResponse:
    form = f.TeamForm(request.POST or None, label_suffix="")
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = p.create_team(data["name"], data["assignment"])
        except Refused as exc:
            refusal = exc
        else:
            messages.success(request, f"Team {team.name} added.")
            return redirect("team", team.pk)

    context = {
        "teams": Team.objects.prefetch_related("members__user"),
        "form": form,
        "refusal": refusal,
    }
    status = REFUSED if request.method == "POST" else 200
    return render(request, "leadrelay/teams.html", context, status=status)


def _team_response(
    request: HttpRequest, team: Team, refusal: Refused | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "team": team,
        "members": team.members.select_related("user"),
        "assignment_form": f.AssignmentForm(
            initial={"assignment": team.assignment}, label_suffix=""
        ),
        "member_form": f.MemberForm(team=team, label_suffix=""),
        "refusal": refusal,
    }
    return render(request, "leadrelay/team.html", context, status=status)


@page("manage")
def team(request: HttpRequest, contract: Contract, pk: int) -> HttpResponse:
    return _team_response(request, get_object_or_404(Team, pk=pk))


@require_POST
@page("manage")
def team_change(request: HttpRequest, contract: Contract, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    what = request.POST.get("what")
    try:
        if what == "assignment":
            p.set_assignment(team, request.POST.get("assignment", ""))
            messages.success(request, "Assignment saved.")
        elif what == "add":
            username = request.POST.get("username", "")
            user = User.objects.filter(username=username).first()
            if user is None:
                raise Refused("add member", ["someone to add"])
            p.add_member(team, user)
            messages.success(request, f"{user.username} joined {team.name}.")
        elif what in ("away", "back", "remove"):
            member = get_object_or_404(
                TeamMember, pk=request.POST.get("member"), team=team
            )
            if what == "remove":
                p.remove_member(member)
                messages.success(request, f"{member.user.username} left {team.name}.")
            else:
                p.set_away(member, what == "away")
                state = "away" if what == "away" else "back"
                messages.success(request, f"{member.user.username} is {state}.")
    except Refused as exc:
        return _team_response(request, team, exc, REFUSED)

    return redirect("team", team.pk)
