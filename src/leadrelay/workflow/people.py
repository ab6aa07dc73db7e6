"""People and teams: accounts with roles, and the teams that share out leads.

Admins change these from the web app and `leadrelay createuser`; both go
through here so that the same rules hold. A refused change raises the same
`Refused` as the lead workflow and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from leadrelay.models import Assignment, Team, TeamMember
from leadrelay.workflow.ops import Refused
from leadrelay.workflow.roles import ADMIN, OWNER_ROLES, ROLES, roles_of

#: Usernames are what events record as the actor; keep them plain.
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@+")


def role_problems(roles: Iterable[str]) -> list[str]:
    names = list(roles)
    unknown = [r for r in names if r not in ROLES]
    out = [
        f'a role that exists ("{r}" is not one of {", ".join(ROLES)})' for r in unknown
    ]
    if not names:
        out.append(f"at least one role: {', '.join(ROLES)}")

    return out


def create_person(
    username: str,
    password: str,
    roles: Iterable[str],
    email: str = "",
) -> User:
    """Create an active account with the given roles."""
    username = username.strip().lower()
    roles = list(dict.fromkeys(roles))
    problems = role_problems(roles)
    if not username:
        problems.append("a username")
    elif set(username) - USERNAME_CHARS:
        problems.append(
            "a username of letters, digits and . _ - @ + only "
            f'("{username}" has others)'
        )
    elif User.objects.filter(username=username).exists():
        problems.append(f'a username nobody has ("{username}" is taken)')

    problems += _password_problems(password, username)
    if problems:
        raise Refused("add person", problems)

    with transaction.atomic():
        user = User.objects.create_user(
            username, email=email.strip(), password=password
        )
        _set_groups(user, roles)

    return user


def set_roles(user: User, roles: Iterable[str], by: User | None = None) -> None:
    roles = list(dict.fromkeys(roles))
    problems = role_problems(roles)
    if (
        by is not None
        and by.pk == user.pk
        and ADMIN in roles_of(by)
        and ADMIN not in roles
    ):
        problems.append("another admin to take away your own admin role")
    if problems:
        raise Refused("change roles", problems)

    with transaction.atomic():
        _set_groups(user, roles)


def set_active(user: User, active: bool, by: User | None = None) -> None:
    """Let a person sign in or not; events and owners keep their name either way."""
    if not active and by is not None and by.pk == user.pk:
        raise Refused("deactivate", ["another admin to deactivate your own account"])

    user.is_active = active
    user.save(update_fields=["is_active"])


def set_password(user: User, password: str) -> None:
    problems = _password_problems(password, user.username)
    if problems:
        raise Refused("change password", problems)

    user.set_password(password)
    user.save(update_fields=["password"])


def create_team(name: str, assignment: str) -> Team:
    name = name.strip()
    problems = []
    if not name:
        problems.append("a name")
    elif Team.objects.filter(name__iexact=name).exists():
        problems.append(f'a name no other team has ("{name}" is taken)')
    if assignment not in Assignment.values:
        problems.append(f"an assignment: one of {', '.join(Assignment.values)}")
    if problems:
        raise Refused("add team", problems)

    return Team.objects.create(name=name, assignment=assignment)


def set_assignment(team: Team, assignment: str) -> None:
    if assignment not in Assignment.values:
        raise Refused(
            "change assignment",
            [f"an assignment: one of {', '.join(Assignment.values)}"],
        )

    team.assignment = assignment
    team.save(update_fields=["assignment"])


def add_member(team: Team, user: User) -> TeamMember:
    """Add someone who may own leads; they join the rotation at its current turn."""
    problems = []
    if not roles_of(user) & OWNER_ROLES:
        problems.append(f'a member in sales ("{user.username}" is not)')
    if TeamMember.objects.filter(team=team, user=user).exists():
        problems.append(f"someone not yet in {team.name} ({user.username} is)")
    if problems:
        raise Refused("add member", problems)

    # Starting at the team's current turn, not at zero, keeps a newcomer from
    # taking every lead until they have caught up with the others.
    return TeamMember.objects.create(team=team, user=user, last_turn=team.turns)


def set_away(member: TeamMember, away: bool) -> None:
    member.away = away
    member.save(update_fields=["away"])


def remove_member(member: TeamMember) -> None:
    member.delete()


def _set_groups(user: User, roles: list[str]) -> None:
    groups = [Group.objects.get_or_create(name=role)[0] for role in roles]
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(*groups)
    if hasattr(user, "_leadrelay_roles"):
        del user._leadrelay_roles


def _password_problems(password: str, username: str) -> list[str]:
    if not password:
        return ["a password"]

    try:
        validate_password(password, User(username=username))
    except ValidationError as exc:
        return [f"a stronger password ({' '.join(exc.messages)})"]

    return []
