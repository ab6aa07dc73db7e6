"""Who may do what: the three roles and the actions each allows.

Roles are Django groups of the same names (the second migration creates
them). A person may hold several; a superuser holds all three. The web app
checks these before calling the workflow, and so will the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q

MARKETING = "marketing"
SALES = "sales"
ADMIN = "admin"

#: The roles, with what each is for, in the order pages show them.
ROLES: dict[str, str] = {
    MARKETING: "captures leads, tags them and hands them off",
    SALES: "owns, works and closes leads",
    ADMIN: "manages people and teams",
}

#: Each action a person can take, and the roles that allow it.
ACTIONS: dict[str, frozenset[str]] = {
    "create": frozenset({MARKETING}),
    "edit": frozenset({MARKETING, SALES}),
    "next_action": frozenset({MARKETING, SALES}),
    "handoff": frozenset({MARKETING}),
    "claim": frozenset({SALES}),
    "assign": frozenset({SALES}),
    "outreach": frozenset({SALES}),
    "move": frozenset({SALES}),
    "objection": frozenset({SALES}),
    "won": frozenset({SALES}),
    "lost": frozenset({SALES}),
    "reopen": frozenset({SALES}),
    "manage": frozenset({ADMIN}),
}

#: What each action does, to finish "Only sales can ...".
DOING: dict[str, str] = {
    "create": "add leads",
    "edit": "edit leads",
    "next_action": "set next actions",
    "handoff": "hand leads off to sales",
    "claim": "claim leads",
    "assign": "assign leads to an owner",
    "outreach": "log outreach",
    "move": "move leads between stages",
    "objection": "log objections",
    "won": "close leads won",
    "lost": "close leads lost",
    "reopen": "reopen lost leads",
    "manage": "manage people and teams",
}

#: The roles allowed to own a lead.
OWNER_ROLES = frozenset({SALES})


def roles_of(user: Any) -> frozenset[str]:
    """Return the roles a signed-in user holds; nobody else holds any."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()

    if user.is_superuser:
        return frozenset(ROLES)

    cached = getattr(user, "_leadrelay_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        cached = frozenset(names)
        user._leadrelay_roles = cached

    return cached


def may(user: Any, action: str) -> bool:
    return bool(roles_of(user) & ACTIONS[action])


#: How a refusal names the people holding a role.
_HOLDERS = {MARKETING: "marketing", SALES: "sales", ADMIN: "admins"}


def who_may(action: str) -> str:
    """Name the roles allowing an action, for a refusal a person can act on."""
    return " or ".join(_HOLDERS[role] for role in sorted(ACTIONS[action]))


def not_allowed(action: str) -> str:
    """Return the sentence a refused person reads, naming who may do it."""
    return f"Only {who_may(action)} can {DOING[action]}."


def possible_owners() -> list[User]:
    """Return the active users who may own a lead, by username."""
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=OWNER_ROLES))
        .distinct()
        .order_by("username")
    )


def owner_problem(username: str) -> str | None:
    """Return why this user cannot own a lead, or None when they can."""
    user = User.objects.filter(username=username).first()
    if user is None:
        return f'an owner with an account ("{username}" has none)'

    if not user.is_active:
        return f'an owner whose account is active ("{username}" is deactivated)'

    if not roles_of(user) & OWNER_ROLES:
        return f'an owner in sales ("{username}" is not)'

    return None
