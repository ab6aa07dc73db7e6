"""The pulse, meeting mode and the decision form, driven through Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from leadrelay.models import Decision
from leadrelay.workflow.bulk import contract_version
from leadrelay.workspace import load_contract

from .conftest import LAPTOP, PASSWORD, PHONE
from .test_pulse_pages import DAY, T0, lead, seed_leaky, seed_week

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sign_in(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Return a function opening a signed-in page, which records its console errors.

    The contexts close when the test ends, so that no connection the browser
    keeps alive outlasts the test's server.
    """
    contexts: list[Any] = []

    def open_page(username: str, viewport: dict[str, int]) -> Any:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on(
            "console",
            lambda m: page.errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(f"{live_server.url}/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def seeded(db: None) -> None:
    version = contract_version(load_contract())
    seed_week(version)
    seed_leaky(version)
    # One lead the week after, so that next week's figure is not empty.
    lead(version, T0 + 8 * DAY, name="Next Week")


def shoot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def seconds(shown: str) -> int:
    minutes, secs = shown.split(":")
    return 60 * int(minutes) + int(secs)


def drawn_charts(page: Any) -> list[str]:
    """Return the ids of the canvases Chart.js has drawn a chart on."""
    page.wait_for_function("() => window.Chart !== undefined")
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-chart]'))
            .filter(c => window.Chart.getChart(c) && c.width > 0)
            .map(c => c.dataset.chart)"""
    )


def test_the_pulse_page_draws_its_charts_without_errors(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    seeded: None,
    artifacts: Path,
) -> None:
    mia = sign_in("mia", LAPTOP)

    mia.goto(f"{live_server.url}/pulse/?week=2018-W10")

    assert drawn_charts(mia) == ["leads-trend", "sla-split", "cohort-funnel"]
    assert mia.evaluate("() => window.Chart.version").startswith("4.")
    assert mia.errors == []
    shoot(mia, artifacts, "pulse-charts-laptop")

    mia.set_viewport_size(PHONE)
    mia.wait_for_timeout(300)
    shoot(mia, artifacts, "pulse-charts-phone")
    width = mia.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"


def test_a_figure_s_link_opens_its_leads(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    seeded: None,
    artifacts: Path,
) -> None:
    sam = sign_in("sam", PHONE)
    sam.goto(f"{live_server.url}/pulse/?week=2018-W10")

    sam.locator("#sla").get_by_role("link", name="2").nth(1).click()

    sam.wait_for_url(re.compile(r"figure=sla_missed"))
    assert "Leads that missed the SLA" in sam.locator("h1").inner_text()
    assert sam.locator("table.list tbody tr").count() == 2
    shoot(sam, artifacts, "pulse-leads-phone")


def test_a_meeting_steps_through_the_items_and_ends_with_the_decision(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    seeded: None,
    artifacts: Path,
) -> None:
    mia = sign_in("mia", LAPTOP)
    mia.goto(f"{live_server.url}/pulse/meeting/?week=2018-W10")

    # The timer counts down from 15:00.
    timer = mia.locator("[data-timer] .time")
    first = seconds(timer.inner_text())
    mia.wait_for_timeout(2200)
    later = seconds(timer.inner_text())
    assert 890 <= first <= 900
    assert 1 <= first - later <= 4

    # One item at a time, moved on by the arrow keys and the buttons.
    titles = []
    for step in range(1, 7):
        current = mia.locator(".step.current")
        assert current.count() == 1
        assert current.get_attribute("id") == f"step-{step}"
        titles.append(mia.locator("[data-where]").inner_text())
        if step == 1:
            assert drawn_charts(mia) == ["leads-trend", "sla-split", "cohort-funnel"]
            assert mia.evaluate("() => window.scrollY") == 0
            shoot(mia, artifacts, "meeting-step1-laptop")
        if step < 6:
            mia.keyboard.press("ArrowRight")
    assert titles[0] == "1 of 6: Leads in"
    assert titles[4] == "5 of 6: Last week's decision"
    mia.keyboard.press("ArrowLeft")
    assert mia.locator(".step.current").get_attribute("id") == "step-5"
    mia.get_by_role("button", name="Next →").click()
    assert mia.locator(".step.current").get_attribute("id") == "step-6"
    assert mia.get_by_role("button", name="Next →").is_disabled()

    # The decision, recorded at the end.
    form = mia.locator("#decision-form")
    form.get_by_label("Targeting: who marketing goes after").check()
    form.get_by_label("What we decided").fill("Put the partner budget into web forms")
    form.get_by_label("Figure it should move").select_option("leads_in")
    form.get_by_label("Only for source").select_option("web_form")
    shoot(mia, artifacts, "meeting-decision-laptop")
    form.get_by_role("button", name="Record the decision").click()
    mia.wait_for_url(re.compile(r"/pulse/\?week=2018-W10#decision$"))
    assert "Recorded the decision" in mia.locator(".messages").inner_text()
    decision = Decision.objects.get()
    assert (decision.made_by, decision.metric, decision.source) == (
        "mia",
        "leads_in",
        "web_form",
    )
    assert mia.errors == []

    # Next week's pulse shows it as last week's decision, before and after.
    mia.goto(f"{live_server.url}/pulse/?week=2018-W11")
    last = mia.locator("#last-decision")
    text = last.inner_text()
    assert "Put the partner budget into web forms" in text
    assert "Before: 2018-W10\t3 leads" in text
    assert "After: 2018-W11\t1 lead" in text
    assert "a change is not proof that the decision caused it" in text
    last.scroll_into_view_if_needed()
    shoot(mia, artifacts, "pulse-last-decision-laptop")


def test_meeting_mode_reads_on_a_phone(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    seeded: None,
    artifacts: Path,
) -> None:
    sam = sign_in("sam", PHONE)
    sam.goto(f"{live_server.url}/pulse/meeting/?week=2018-W10")

    for step in (1, 2, 3, 4, 5, 6):
        assert sam.locator(".step.current").get_attribute("id") == f"step-{step}"
        if step in (1, 3, 4, 6):
            shoot(sam, artifacts, f"meeting-step{step}-phone")
        if step < 6:
            sam.get_by_role("button", name="Next →").click()

    width = sam.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    assert sam.errors == []


def test_a_second_decision_is_refused_until_replace_is_ticked(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    seeded: None,
    artifacts: Path,
) -> None:
    sam = sign_in("sam", PHONE)
    sam.goto(f"{live_server.url}/pulse/?week=2018-W10")
    form = sam.locator("#decision-form")
    form.get_by_label("Follow-up: how sales works them").check()
    form.get_by_label("What we decided").fill("Call every new lead within the hour")
    form.get_by_role("button", name="Record the decision").click()
    sam.wait_for_url(re.compile(r"#decision$"))

    # A second one, typed into the form kept closed under the first.
    sam.locator("details.replace-form summary").click()
    form = sam.locator("#decision-form")
    form.get_by_label("Messaging: what the leads are told").check()
    form.get_by_label("What we decided").fill("Lead with the ROI sheet")
    form.get_by_role("button", name="Record the decision").click()

    refusal = sam.locator("#decision-form .refusal")
    refusal.wait_for()
    assert (
        "2018-W10 already has its decision (follow_up, by sam" in refusal.inner_text()
    )
    form = sam.locator("#decision-form")
    assert (
        form.get_by_label("What we decided").input_value() == "Lead with the ROI sheet"
    )
    assert form.get_by_label("Messaging: what the leads are told").is_checked()
    refusal.scroll_into_view_if_needed()
    shoot(sam, artifacts, "decision-refused-phone")
    assert Decision.objects.get().text == "Call every new lead within the hour"

    form.get_by_label("Replace the decision already recorded for this week").check()
    form.get_by_role("button", name="Record the decision").click()
    sam.wait_for_url(re.compile(r"#decision$"))
    assert "Replaced the decision" in sam.locator(".messages").inner_text()
    assert Decision.objects.get().text == "Lead with the ROI sheet"
    # The refusal's own 422 is the only thing the console reports.
    assert [e for e in sam.errors if "status of 422" not in e] == []


def test_the_log_feedback_and_leak_pages_read_well_at_both_widths(
    sign_in: Callable[..., Any],
    live_server: Any,
    personas: dict[str, User],
    seeded: None,
    artifacts: Path,
) -> None:
    contract = load_contract()
    from leadrelay.pulse import decisions

    decisions.record(
        "2018-W09", "messaging", "Lead with the case study", "ada", contract=contract
    )
    decisions.record(
        "2018-W10",
        "targeting",
        "More partner events",
        "mia",
        metric="qualified_cohort_rate",
        contract=contract,
        now=T0 + timedelta(days=7),
    )
    pages = {
        "decisions": "/decisions/",
        "feedback": "/feedback/?since=2018-03-01&until=2018-03-31&by=source",
        "notes": "/feedback/notes/?label=price",
        "leaks": "/leaks/?since=2018-02-01&until=2018-03-31&by=source",
        "leaks-small": "/leaks/?since=2018-03-01&until=2018-03-31&by=source",
    }
    ada = sign_in("ada", LAPTOP)
    for name, url in pages.items():
        for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
            ada.set_viewport_size(viewport)
            response = ada.goto(f"{live_server.url}{url}")
            assert response.status == 200, url
            shoot(ada, artifacts, f"{name}-{size}")
            width = ada.evaluate("() => document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{url} scrolls sideways at {size} width"
    assert ada.errors == []
