"""What the notification and worker tests share: servers, people, time, contracts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from leadrelay.contract import Contract, default_text, parse
from leadrelay.models import Lead, Team, TeamMember
from leadrelay.notify.recipients import set_team_lead
from leadrelay.workflow import ops

from .servers import Hook, Mailbox, smtp_server, webhook_server

BERLIN = ZoneInfo("Europe/Berlin")


def contract_text(
    *,
    starts: str = "handoff",
    within: float = 8,
    clock: str = "business",
    timezone_name: str = "Europe/Berlin",
    extra_sla: str = "",
    escalate: str = "",
    country: str = 'holidays_country = "DE"',
    pulse_to: str = "[]",
    pulse_chat: bool = False,
) -> str:
    """Return the default contract with the SLA and hours a test needs."""
    text = default_text()
    text = text.replace('timezone = "UTC"', f'timezone = "{timezone_name}"', 1)
    text = text.replace('starts = "inquiry"', f'starts = "{starts}"', 1)
    text = text.replace("within_hours = 24", f"within_hours = {within:g}", 1)
    text = text.replace('clock = "calendar"', f'clock = "{clock}"', 1)
    if escalate:
        start = text.index("escalate = [")
        end = text.index("]\n", start) + 2
        text = text[:start] + escalate + "\n" + text[end:]
    if extra_sla:
        text = text.replace("pausable = false\n", f"pausable = false\n{extra_sla}\n", 1)
    text = text.replace("holidays = []\n", f"holidays = []\n{country}\n", 1)
    text = text.replace("to = []", f"to = {pulse_to}", 1)
    return text.replace("chat = false", f"chat = {str(pulse_chat).lower()}", 1)


def contract(**kwargs: Any) -> Contract:
    return parse(contract_text(**kwargs))


def person(username: str, *roles: str, email: str | None = None) -> User:
    address = f"{username}@example.com" if email is None else email
    user = User.objects.create_user(username, email=address)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@dataclass
class Crew:
    """mia in marketing; sam and sue sell in Berlin, led by kim; ada is the admin."""

    team: Team
    mia: User
    sam: User
    sue: User
    kim: User
    ada: User


def crew(team_lead: bool = True) -> Crew:
    team = Team.objects.create(name="Berlin")
    people = Crew(
        team=team,
        mia=person("mia", "marketing"),
        sam=person("sam", "sales"),
        sue=person("sue", "sales"),
        kim=person("kim", "sales"),
        ada=person("ada", "admin"),
    )
    for user in (people.sam, people.sue, people.kim):
        TeamMember.objects.create(team=team, user=user)
    if team_lead:
        set_team_lead(team, people.kim)
    return people


def ready(**overrides: Any) -> dict[str, Any]:
    """Return the fields of a lead whose handoff checklist holds."""
    fields: dict[str, Any] = {
        "email": "ana@example.com",
        "name": "Ana Lima",
        "company": "Lima Tools",
        "source": "web_form",
        "industry": "software",
        "company_size": "11-50",
        "employees": 40,
        "location": "Berlin",
        "intent": "asked for a demo",
        "next_action": "call to book the demo",
        "next_action_owner": "mia",
        "next_action_due": timezone.now() + timedelta(days=30),
    }
    fields.update(overrides)
    return fields


def handed_off(terms: Contract, owner: str = "sam", **overrides: Any) -> Lead:
    lead = ops.create("mia", terms, ready(**overrides))
    team = Team.objects.filter(name="Berlin").first()
    return ops.handoff(lead, "mia", terms, owner=owner, team=team)


class Frozen:
    """The time the workflow sees, set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Frozen:
    return Frozen(monkeypatch)


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    with smtp_server() as (box, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield box


@pytest.fixture
def hook(settings: Any) -> Iterator[Hook]:
    with webhook_server() as server:
        settings.NOTIFY_CHAT_WEBHOOK_URL = server.url()
        settings.NOTIFY_ALLOW_PRIVATE_WEBHOOKS = ("127.0.0.1/32",)
        settings.NOTIFY_CHAT_TIMEOUT = 0.3
        settings.NOTIFY_CHAT_BACKOFF = 0.01
        server.slow = 0.6
        yield server
