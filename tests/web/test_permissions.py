"""Each role against each action, straight at the server (no browser)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from leadrelay.models import Event, Lead, Team
from leadrelay.workflow import ops
from leadrelay.workflow.roles import ACTIONS
from leadrelay.workspace import load_contract

from .conftest import make_person, signed_in

pytestmark = pytest.mark.django_db

READY = {
    "email": "ana@example.com",
    "name": "Ana Lima",
    "source": "web_form",
    "industry": "software",
    "company_size": "11-50",
    "location": "Berlin",
    "intent": "wants a demo",
    "next_action": "call",
    "next_action_owner": "mia",
}


def _lead(state: str) -> Lead:
    """Return a lead in a state where the action under test would succeed."""
    contract = load_contract()
    due = timezone.now() + timedelta(days=2)
    lead = ops.create("mia", contract, {**READY, "next_action_due": due})
    if state == "new":
        return lead

    lead = ops.handoff(lead, "mia", contract, owner="" if state == "unowned" else "sam")
    if state in ("unowned", "owned"):
        return lead

    lead = ops.log_outreach(lead, "sam", contract, "call")
    if state == "contacted":
        return lead

    assert state == "lost"
    return ops.close_lost(lead, "sam", contract, "price", "They found it too dear.")


def _due() -> str:
    return (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


#: Each action on a lead: the state it needs and the form it posts.
LEAD_ACTIONS: dict[str, tuple[str, Callable[[], dict[str, str]]]] = {
    "edit": (
        "new",
        lambda: {"edit-email": "ana@example.com", "edit-intent": "pricing"},
    ),
    "next_action": (
        "new",
        lambda: {
            "next_action-next_action": "send deck",
            "next_action-next_action_due": _due(),
        },
    ),
    "handoff": ("new", lambda: {}),
    "claim": ("unowned", lambda: {}),
    "assign": ("owned", lambda: {"assign-owner": "sue"}),
    "outreach": ("owned", lambda: {"outreach-channel": "email"}),
    "move": ("contacted", lambda: {"move-stage": "contacted"}),
    "objection": (
        "owned",
        lambda: {"objection-label": "price", "objection-note": "Dear."},
    ),
    "won": ("owned", lambda: {}),
    "lost": ("owned", lambda: {"lost-reason": "price", "lost-note": "Went elsewhere."}),
    "reopen": ("lost", lambda: {}),
}

ROLES = ("marketing", "sales", "admin")


def snapshot() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        list(Lead.objects.order_by("pk").values()),
        list(Event.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", LEAD_ACTIONS)
def test_each_role_may_take_exactly_the_actions_its_role_allows(
    personas: dict[str, User], role: str, action: str
) -> None:
    state, data = LEAD_ACTIONS[action]
    lead = _lead(state)
    before = snapshot()
    client = signed_in(personas[role])

    response = client.post(f"/leads/{lead.pk}/{action}/", data())

    if role in ACTIONS[action]:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Event.objects.count() > len(before[1])
    else:
        assert response.status_code == 403
        assert "Only " in response.content.decode()
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_only_marketing_may_add_a_lead(personas: dict[str, User], role: str) -> None:
    client = signed_in(personas[role])

    response = client.post("/leads/new/", {"email": "new@example.com"})

    if role == "marketing":
        assert response.status_code == 302
        assert Lead.objects.count() == 1
    else:
        assert response.status_code == 403
        assert "Only marketing can add leads." in response.content.decode()
        assert Lead.objects.count() == 0


ADMIN_POSTS = {
    "/people/": {
        "username": "newbie",
        "password": "a long new password 9",
        "roles": "sales",
    },
    "/teams/": {"name": "Inside", "assignment": "round_robin"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_only_admins_manage_people_and_teams(
    personas: dict[str, User], role: str, url: str
) -> None:
    client = signed_in(personas[role])

    page = client.get(url)
    response = client.post(url, ADMIN_POSTS[url])

    if role == "admin":
        assert page.status_code == 200
        assert response.status_code == 302
    else:
        assert page.status_code == response.status_code == 403
        assert "Only admins can manage people and teams." in response.content.decode()
        assert not User.objects.filter(username="newbie").exists()
        assert not Team.objects.exists()


PAGES = ("/", "/board/", "/leads/", "/funnel/", "/pulse/")


@pytest.mark.parametrize("url", PAGES)
def test_every_role_reads_the_shared_pages(personas: dict[str, User], url: str) -> None:
    for role in ROLES:
        assert signed_in(personas[role]).get(url).status_code == 200


@pytest.mark.parametrize("url", [*PAGES, "/people/", "/leads/new/"])
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(db: None, url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")


def test_an_account_without_a_role_sees_a_page_saying_so(db: None) -> None:
    nobody = make_person("nora")

    response = signed_in(nobody).get("/")

    assert response.status_code == 403
    assert "Your account has no role yet." in response.content.decode()


def test_a_lead_action_answers_only_posts(personas: dict[str, User]) -> None:
    lead = _lead("new")

    response = signed_in(personas["marketing"]).get(f"/leads/{lead.pk}/handoff/")

    assert response.status_code == 405


def test_an_unknown_action_is_not_found(personas: dict[str, User]) -> None:
    lead = _lead("new")

    response = signed_in(personas["marketing"]).post(f"/leads/{lead.pk}/teleport/")

    assert response.status_code == 404


def test_a_deactivated_account_cannot_act(personas: dict[str, User]) -> None:
    lead = _lead("owned")
    client = signed_in(personas["sales"])
    User.objects.filter(username="sam").update(is_active=False)

    response = client.post(f"/leads/{lead.pk}/won/")

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    assert not Event.objects.filter(kind="won").exists()
