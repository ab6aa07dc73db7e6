"""The failed-notifications page, where alerts go, and alerts on a lead's timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from leadrelay.models import Notification, TeamRoute
from leadrelay.sla.worker import Worker

from .fixtures import BERLIN, Crew, Frozen, contract_text, crew, handed_off
from .servers import Hook, Mailbox

pytestmark = pytest.mark.django_db

FRIDAY = datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN)
DUE = datetime(2026, 3, 30, 15, 0, tzinfo=BERLIN)


@pytest.fixture
def people(settings: Any, tmp_path: Path) -> Crew:
    path = tmp_path / "funnel.toml"
    path.write_text(contract_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    return crew()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def failed_one(people: Crew, frozen: Frozen, hook: Hook) -> Notification:
    """Breach a lead whose owner has no email address: its email fails."""
    people.sam.email = ""
    people.sam.save()
    frozen.at(FRIDAY)
    lead = handed_off(Worker().contract())
    hook.script["/hook"] = [410]
    worker = Worker(clock=lambda: DUE)
    worker.tick()
    assert lead.pk
    return Notification.objects.get(channel="email")


def test_an_admin_sees_failed_notifications_with_the_reason(
    people: Crew, frozen: Frozen, hook: Hook, mailbox: Mailbox
) -> None:
    failed_one(people, frozen, hook)

    page = text(signed_in(people.ada).get("/notifications/failed/"))

    assert "2 failed" in page
    assert "sam has no email address; add one to the account" in page
    assert "1 try: HTTP 410" in page
    assert "SLA breached: First outreach for Ana Lima (Lima Tools)" in page


def test_only_admins_may_see_the_page(people: Crew) -> None:
    response = signed_in(people.sam).get("/notifications/failed/")

    assert response.status_code == 403


def test_a_failed_notification_can_be_sent_again(
    people: Crew, frozen: Frozen, hook: Hook, mailbox: Mailbox
) -> None:
    note = failed_one(people, frozen, hook)
    people.sam.email = "sam@example.com"
    people.sam.save()

    response = signed_in(people.ada).post("/notifications/failed/", {"retry": note.pk})
    Worker(clock=lambda: DUE + timedelta(minutes=1)).tick()

    assert response.status_code == 302
    note.refresh_from_db()
    assert note.status == "sent"
    assert len(mailbox.to("sam@example.com")) == 1


def test_an_admin_sets_a_team_s_lead_and_webhook(people: Crew) -> None:
    client = signed_in(people.ada)

    client.post(
        "/notifications/failed/",
        {
            "team": people.team.pk,
            "lead": "sue",
            "webhook": "https://chat.example.com/h",
        },
    )
    bad = client.post(
        "/notifications/failed/",
        {"team": people.team.pk, "lead": "sue", "webhook": "ftp://nope"},
        follow=True,
    )

    route = TeamRoute.objects.get(team=people.team)
    assert route.lead == people.sue
    assert route.chat_webhook_url == "https://chat.example.com/h"
    assert "Berlin: a webhook URL is an http(s) address with a host." in text(bad)


def test_a_lead_s_timeline_shows_the_alerts_sent_about_it(
    people: Crew, frozen: Frozen, hook: Hook, mailbox: Mailbox
) -> None:
    frozen.at(FRIDAY)
    lead = handed_off(Worker().contract())
    Worker(clock=lambda: DUE).tick()
    frozen.at(DUE + timedelta(hours=1))

    page = text(signed_in(people.sam).get(f"/leads/{lead.pk}/"))

    assert (
        "leadrelay</strong> emailed sam (sent): SLA breached: First outreach for "
        "Ana Lima (Lima Tools)"
    ) in page
    assert "leadrelay</strong> posted to chat for sam (sent)" in page
    alerts = page.index("emailed sam")
    assert alerts < page.index("handed it off to sales")
