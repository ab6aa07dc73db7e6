"""The web app driven through Chromium, as marketing and sales use it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from leadrelay.models import Event, Lead, Team
from leadrelay.workflow import ops
from leadrelay.workspace import load_contract

from .conftest import LAPTOP, PASSWORD, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sign_in(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Return a function opening a signed-in page for a user, in a context of its own.

    The contexts close when the test ends, so that no connection the browser
    keeps alive outlasts the test's server.
    """
    contexts: list[Any] = []

    def open_page(username: str, viewport: dict[str, int]) -> Any:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def shoot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def panel(page: Any, action: str) -> Any:
    """Return an action's panel on the lead page, opened."""
    found = page.locator(f"#action-{action}")
    if found.get_attribute("open") is None:
        found.locator("summary").click()
    return found


def test_a_lead_goes_from_marketing_to_sales_to_lost(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    artifacts: Path,
) -> None:

    # Marketing adds a lead with only part of the checklist.
    mia = sign_in("mia", LAPTOP)
    mia.get_by_role("link", name="New lead").click()
    form = mia.locator("#new-lead")
    form.get_by_label("Name").fill("Ana Lima")
    form.get_by_label("Company", exact=True).fill("Lima Tools")
    form.get_by_label("Email").fill("ana@example.com")
    form.get_by_label("Source").select_option("web_form")
    form.get_by_label("Intent").fill("Asked for a demo of the scheduler")
    shoot(mia, artifacts, "new-lead-laptop")
    form.get_by_role("button", name="Add lead").click()
    mia.wait_for_url(re.compile(r"/leads/\d+/$"))
    lead_url = mia.url

    # The handoff is refused, and the page says what is missing.
    panel(mia, "handoff").get_by_role("button", name="Hand off").click()
    refusal = mia.locator("#action-handoff .refusal")
    assert refusal.is_visible()
    text = refusal.inner_text()
    assert "Handoff needs:" in text
    for item in ("ICP tag industry", "ICP tag company size", "ICP tag location"):
        assert item in text
    assert "next action due time" in text
    assert Lead.objects.get().owner == ""
    assert not Event.objects.filter(kind="handoff").exists()
    shoot(mia, artifacts, "handoff-refused-laptop")

    # Marketing completes the checklist, and the handoff goes through.
    edit = panel(mia, "edit")
    edit.get_by_label("Industry").fill("software")
    edit.get_by_label("Company size", exact=True).fill("11-50")
    edit.get_by_label("Location").fill("Berlin")
    edit.get_by_role("button", name="Save").click()
    mia.wait_for_url(lead_url)

    due = timezone.localtime(timezone.now() + timedelta(days=2))
    next_action = panel(mia, "next_action")
    next_action.get_by_label("Next action").fill("Book the demo call")
    next_action.get_by_label("Due").fill(due.strftime("%Y-%m-%dT%H:%M"))
    next_action.get_by_role("button", name="Set next action").click()
    mia.wait_for_url(lead_url)
    assert all(
        item.get_attribute("class") == "ok"
        for item in mia.locator("#checklist li").all()
    )

    panel(mia, "handoff").get_by_role("button", name="Hand off").click()
    assert "Handed off to sales" in mia.locator(".messages").inner_text()
    assert mia.locator("#action-handoff").count() == 0
    shoot(mia, artifacts, "lead-handed-off-laptop")

    # Sales, on a phone, claims it from the inbox and logs the first outreach.
    sam = sign_in("sam", PHONE)
    clock = sam.locator("#clock")
    assert "Ana Lima" in clock.inner_text()
    shoot(sam, artifacts, "inbox-phone")
    clock.get_by_role("button", name="Claim").click()
    assert "It is yours now." in sam.locator(".messages").inner_text()
    assert Lead.objects.get().owner == "sam"

    sam.goto(lead_url)
    outreach = panel(sam, "outreach")
    outreach.get_by_label("How").select_option("call")
    outreach.get_by_label("Note").fill("Spoke to Ana, she wants pricing first")
    outreach.get_by_role("button", name="Log outreach").click()
    sam.wait_for_url(lead_url)
    assert "First outreach" in sam.locator(".clock").inner_text()
    assert Lead.objects.get().first_outreach_at is not None

    # Closing lost is refused without a reason and a note, and keeps the note typed.
    lost = panel(sam, "lost")
    lost.get_by_role("button", name="Close lost").click()
    refusal = sam.locator("#action-lost .refusal")
    assert "a loss reason from the contract's list" in refusal.inner_text()
    assert "a one-sentence note" in refusal.inner_text()

    lost = panel(sam, "lost")
    lost.get_by_label("Note").fill("They chose a cheaper rival")
    lost.get_by_role("button", name="Close lost").click()
    refusal = sam.locator("#action-lost .refusal")
    assert "a loss reason from the contract's list" in refusal.inner_text()
    assert "note" not in refusal.inner_text().split("needs:")[1]
    assert sam.locator("#action-lost").get_by_label("Note").input_value() == (
        "They chose a cheaper rival"
    )
    assert Lead.objects.get().stage == "inquiry"
    shoot(sam, artifacts, "lost-refused-phone")

    lost = panel(sam, "lost")
    lost.get_by_label("Reason").select_option("price")
    lost.get_by_role("button", name="Close lost").click()
    sam.wait_for_url(lead_url)
    assert "Closed lost." in sam.locator(".messages").inner_text()
    lead = Lead.objects.get()
    assert (lead.stage, lead.loss_reason) == ("lost", "price")

    # The timeline shows every step, newest first.
    steps = sam.locator("#timeline .event .what").all_inner_texts()
    expected = [
        "sam closed it lost: Price too high",
        "sam logged the first outreach (call): the contact clock stopped",
        "sam claimed it",
        "mia handed it off to sales",
        "mia set the next action",
        "mia edited the lead",
        "mia added the lead",
    ]
    assert len(steps) == Event.objects.count() == len(expected)
    for step, start in zip(steps, expected, strict=True):
        assert step.startswith(start), step
    shoot(sam, artifacts, "lead-lost-phone")
    sam.set_viewport_size(LAPTOP)
    shoot(sam, artifacts, "lead-lost-laptop")


def seed_board() -> None:
    contract = load_contract()
    due = timezone.now() + timedelta(days=3)
    base = {
        "source": "web_form",
        "industry": "software",
        "company_size": "11-50",
        "location": "Lisbon",
        "intent": "wants a trial",
        "next_action": "call",
        "next_action_due": due,
    }
    names = ["Brio Labs", "Cedar & Co", "Dunmore Freight", "Elm Analytics", "Fjord AS"]
    leads = [
        ops.create("mia", contract, {**base, "name": n, "email": f"{i}@example.com"})
        for i, n in enumerate(names)
    ]
    for lead in leads[1:]:
        ops.handoff(lead, "mia", contract, owner="sam")
    for lead in leads[2:]:
        ops.log_outreach(lead, "sam", contract, "email")
        ops.move(lead, "sam", contract, "contacted")
    ops.move(leads[3], "sam", contract, "qualified")
    ops.close_won(leads[4], "sam", contract)
    # One lead has been idle for a fortnight: the board marks it stalled.
    old = timezone.now() - timedelta(days=14)
    Lead.objects.filter(pk=leads[2].pk).update(last_event_at=old)


def test_a_card_moves_on_the_board_through_the_stage_gate(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    artifacts: Path,
) -> None:
    seed_board()
    sam = sign_in("sam", LAPTOP)
    sam.get_by_role("link", name="Board").click()
    shoot(sam, artifacts, "board-laptop")
    assert sam.locator(".lead-card.stalled").count() == 1

    cedar = sam.locator(".lead-card", has_text="Cedar & Co")
    cedar.get_by_label("Move Cedar & Co to").select_option("contacted")
    cedar.get_by_role("button", name="Move").click()
    sam.wait_for_selector(".refusal")
    assert "a logged first outreach" in sam.locator(".refusal").inner_text()
    assert sam.locator(".lead-card.refused", has_text="Cedar & Co").count() == 1
    assert Lead.objects.get(name="Cedar & Co").stage == "inquiry"

    dunmore = sam.locator(".lead-card", has_text="Dunmore Freight")
    dunmore.get_by_label("Move Dunmore Freight to").select_option("qualified")
    dunmore.get_by_role("button", name="Move").click()
    sam.wait_for_selector(".messages")
    assert Lead.objects.get(name="Dunmore Freight").stage == "qualified"

    sam.set_viewport_size(PHONE)
    shoot(sam, artifacts, "board-phone")


def test_the_funnel_and_pulse_pages_read_well_at_both_widths(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    artifacts: Path,
) -> None:
    seed_board()
    mia = sign_in("mia", LAPTOP)

    mia.get_by_role("link", name="Funnel").click()
    assert mia.locator("h1").inner_text() == "Our funnel: the funnel contract"
    assert mia.locator("table").first.is_visible()
    shoot(mia, artifacts, "funnel-laptop")

    mia.get_by_role("link", name="Pulse").click()
    this_week = timezone.localdate().isocalendar()
    mia.get_by_label("Week", exact=True).fill(f"{this_week.year}-W{this_week.week:02d}")
    mia.get_by_role("button", name="Show").click()
    assert "Leads in: 5" in mia.locator("#leads-in h2").inner_text()
    shoot(mia, artifacts, "pulse-laptop")

    mia.set_viewport_size(PHONE)
    shoot(mia, artifacts, "pulse-phone")
    mia.get_by_role("link", name="Funnel").click()
    shoot(mia, artifacts, "funnel-phone")


#: The action panels each role finds on a handed-off, owned, open lead.
PANELS = {
    "mia": {"next_action", "edit"},
    "sam": {
        "outreach",
        "move",
        "next_action",
        "objection",
        "assign",
        "won",
        "lost",
        "edit",
    },
    "ada": set(),
}


@pytest.mark.parametrize("username", PANELS)
def test_each_role_sees_only_the_actions_it_may_take(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    username: str,
) -> None:
    seed_board()
    lead = Lead.objects.get(name="Cedar & Co")
    page = sign_in(username, LAPTOP)

    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    ids = page.locator(".lead-actions details").evaluate_all(
        "els => els.map(e => e.id)"
    )
    assert {i.removeprefix("action-") for i in ids} == PANELS[username]
    new_lead = page.get_by_role("link", name="New lead")
    assert new_lead.count() == (1 if username == "mia" else 0)
    people = page.get_by_role("link", name="People")
    assert people.count() == (1 if username == "ada" else 0)


def test_a_page_the_role_may_not_open_says_so(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    artifacts: Path,
) -> None:
    page = sign_in("sam", PHONE)

    response = page.goto(f"{live_server.url}/people/")

    assert response.status == 403
    assert "Only admins can manage people and teams." in page.inner_text("main")
    shoot(page, artifacts, "not-allowed-phone")


def test_an_admin_sets_up_a_round_robin_team(
    sign_in: Callable[..., Any],
    personas: dict[str, User],
    artifacts: Path,
) -> None:
    ada = sign_in("ada", LAPTOP)

    ada.get_by_role("link", name="People").click()
    form = ada.locator("form", has=ada.get_by_role("button", name="Add person"))
    form.get_by_label("Username").fill("tom")
    form.get_by_label("Password").fill("a long new password 9")
    form.get_by_label("sales").check()
    form.get_by_role("button", name="Add person").click()
    assert "Added tom." in ada.locator(".messages").inner_text()
    shoot(ada, artifacts, "people-laptop")

    ada.get_by_role("link", name="Teams").click()
    ada.get_by_label("Name").fill("Inside sales")
    ada.get_by_label("New leads").select_option("round_robin")
    ada.get_by_role("button", name="Add team").click()
    for name in ("sam", "sue", "tom"):
        ada.get_by_label("Add a member").select_option(name)
        ada.get_by_role("button", name="Add", exact=True).click()
    ada.locator("tr", has_text="sue").get_by_role("button", name="Mark away").click()
    assert "sue is away." in ada.locator(".messages").inner_text()
    shoot(ada, artifacts, "team-laptop")
    ada.set_viewport_size(PHONE)
    shoot(ada, artifacts, "team-phone")

    team = Team.objects.get()
    owners = [
        ops.handoff(lead, "mia", load_contract(), team=team).owner
        for lead in [_ready_lead(i) for i in range(4)]
    ]
    assert owners == ["sam", "tom", "sam", "tom"]


def _ready_lead(i: int) -> Lead:
    due = timezone.now() + timedelta(days=1)
    return ops.create(
        "mia",
        load_contract(),
        {
            "email": f"rr{i}@example.com",
            "source": "event",
            "industry": "retail",
            "company_size": "51-200",
            "location": "Porto",
            "intent": "met us at the fair",
            "next_action": "call",
            "next_action_owner": "mia",
            "next_action_due": due,
        },
    )
