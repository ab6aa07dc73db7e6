"""SLA clocks as rows: started, met, passed on, paused and restarted by the workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from leadrelay.contract import ContractError, parse
from leadrelay.contract.model import Escalation
from leadrelay.models import Clock, ContractVersion, Event, Lead
from leadrelay.sla import clocks
from leadrelay.workflow import ops
from leadrelay.workflow.ops import Refused
from notify.fixtures import (
    BERLIN,
    Frozen,
    contract,
    contract_text,
    crew,
    handed_off,
    ready,
)

pytestmark = pytest.mark.django_db

CALENDAR_24 = contract(
    starts="inquiry", within=24, clock="calendar", timezone_name="UTC"
)
BUSINESS_8 = contract()


def pausable(**kwargs: Any) -> Any:
    text = contract_text(**kwargs).replace("pausable = false", "pausable = true", 1)
    return parse(text)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Frozen:
    return Frozen(monkeypatch)


@pytest.fixture(autouse=True)
def people() -> None:
    crew()


def only_clock(lead: Lead) -> Clock:
    [clock] = Clock.objects.filter(lead=lead)
    return clock


# -- starting ---------------------------------------------------------------------


def test_a_new_lead_starts_the_inquiry_clock_due_a_day_later(frozen: Frozen) -> None:
    came_in = frozen.at(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))

    lead = ops.create("mia", CALENDAR_24, ready())

    clock = only_clock(lead)
    assert clock.sla == "first_outreach"
    assert clock.started_at == came_in
    assert clock.due_at == came_in + timedelta(hours=24)
    assert clock.next_action_at == clock.due_at
    assert clock.owner == ""
    assert clock.contract_version.sha256 == CALENDAR_24.sha256


def test_a_handoff_sla_starts_at_the_handoff_with_the_owner(frozen: Frozen) -> None:
    frozen.at(datetime(2026, 3, 26, 10, 0, tzinfo=BERLIN))
    lead = ops.create("mia", BUSINESS_8, ready())
    assert not Clock.objects.filter(lead=lead).exists()

    # Friday 15:00 plus 8 business hours: 2 on Friday, 6 on Monday, after
    # the clocks went forward on Sunday.
    frozen.at(datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN))
    lead = ops.handoff(lead, "mia", BUSINESS_8, owner="sam")

    clock = only_clock(lead)
    assert clock.owner == "sam"
    assert clock.kind == "business"
    assert clock.due_at == datetime(2026, 3, 30, 15, 0, tzinfo=BERLIN)


def test_the_contract_s_holidays_move_the_deadline(frozen: Frozen) -> None:
    frozen.at(datetime(2026, 5, 22, 15, 0, tzinfo=BERLIN))

    lead = handed_off(BUSINESS_8)

    # Whit Monday is a public holiday in all of Germany.
    assert only_clock(lead).due_at == datetime(2026, 5, 26, 15, 0, tzinfo=BERLIN)


def test_a_refused_handoff_starts_no_clock(frozen: Frozen) -> None:
    lead = ops.create("mia", BUSINESS_8, ready(intent=""))

    with pytest.raises(Refused):
        ops.handoff(lead, "mia", BUSINESS_8, owner="sam")

    assert not Clock.objects.exists()


# -- meeting, passing on --------------------------------------------------------------


def test_the_first_outreach_meets_the_clock_and_leaves_nothing_to_do(
    frozen: Frozen,
) -> None:
    frozen.at(datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN))
    lead = handed_off(BUSINESS_8)

    contacted = frozen.at(datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN))
    ops.log_outreach(lead, "sam", BUSINESS_8, "call")

    clock = only_clock(lead)
    assert clock.met_at == contacted
    assert clock.was_met_in_time()
    assert clock.next_action_at is None


def test_a_new_owner_gets_the_running_clock_s_alerts(frozen: Frozen) -> None:
    frozen.at(datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN))
    lead = handed_off(BUSINESS_8)
    due = only_clock(lead).due_at

    ops.assign(lead, "sam", BUSINESS_8, "sue")

    clock = only_clock(lead)
    assert clock.owner == "sue"
    assert clock.due_at == due


def test_a_claim_sets_the_owner_of_a_clock_started_unowned(frozen: Frozen) -> None:
    lead = ops.create("mia", BUSINESS_8, ready())
    lead = ops.handoff(lead, "mia", BUSINESS_8)
    assert only_clock(lead).owner == ""

    ops.claim(lead, "sue", BUSINESS_8)

    assert only_clock(lead).owner == "sue"


def test_a_handoff_passes_a_running_inquiry_clock_to_the_owner(frozen: Frozen) -> None:
    lead = ops.create("mia", CALENDAR_24, ready())

    ops.handoff(lead, "mia", CALENDAR_24, owner="sam")

    assert only_clock(lead).owner == "sam"


# -- reopening --------------------------------------------------------------------


def test_a_reopened_lead_gets_a_new_clock_and_the_old_one_ends(frozen: Frozen) -> None:
    frozen.at(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    lead = handed_off(CALENDAR_24)
    lead = ops.close_lost(
        lead, "sam", CALENDAR_24, "timing", "They will buy next year."
    )

    back = frozen.at(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    ops.reopen(lead, "sam", CALENDAR_24)

    old, new = Clock.objects.filter(lead=lead).order_by("started_at")
    assert old.ended_at == back and old.next_action_at is None
    assert new.started_at == back
    assert new.due_at == back + timedelta(hours=24)
    assert new.owner == "sam"
    assert new.next_action_at == new.due_at


def test_an_outreach_after_reopening_meets_the_new_clock(frozen: Frozen) -> None:
    frozen.at(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    lead = handed_off(CALENDAR_24)
    ops.log_outreach(lead, "sam", CALENDAR_24, "call")
    lead = ops.close_lost(lead, "sam", CALENDAR_24, "timing", "Next year, they said.")
    frozen.at(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    ops.reopen(lead, "sam", CALENDAR_24)

    again = frozen.at(datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
    ops.log_outreach(lead, "sam", CALENDAR_24, "email")

    first, second = Clock.objects.filter(lead=lead).order_by("started_at")
    assert first.met_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert second.met_at == again


# -- pausing ----------------------------------------------------------------------


def test_a_clock_the_contract_does_not_let_pause_is_refused(frozen: Frozen) -> None:
    lead = handed_off(BUSINESS_8)

    with pytest.raises(Refused) as refused:
        ops.pause_clock(lead, "sam", BUSINESS_8, "waiting for their IT")

    assert refused.value.reasons == [
        "an SLA the contract lets you pause (First outreach has no pausable = true)"
    ]
    assert only_clock(lead).paused_at is None


def test_a_paused_clock_moves_its_deadline_by_the_business_hours_it_stood(
    frozen: Frozen,
) -> None:
    terms = pausable()
    frozen.at(datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN))
    lead = handed_off(terms)

    # Paused from Friday 16:00 to Monday 11:00: 1 hour on Friday and 2 on
    # Monday stood still; the weekend was not on the clock anyway.
    frozen.at(datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN))
    ops.pause_clock(lead, "sam", terms, "waiting for the customer's reply")
    paused = only_clock(lead)
    assert paused.next_action_at is None
    frozen.at(datetime(2026, 3, 30, 11, 0, tzinfo=BERLIN))
    ops.resume_clock(lead, "sam", terms)

    clock = only_clock(lead)
    assert clock.paused_at is None
    assert clock.paused_hours == pytest.approx(3.0)
    assert clock.due_at == datetime(2026, 3, 31, 10, 0, tzinfo=BERLIN)
    assert clock.next_action_at == clock.due_at
    kinds = [e.data.get("clock") for e in Event.objects.filter(lead=lead)]
    assert kinds.count("paused") == 1 and kinds.count("resumed") == 1


def test_a_clock_past_its_deadline_cannot_be_paused(frozen: Frozen) -> None:
    terms = pausable()
    frozen.at(datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN))
    lead = handed_off(terms)

    frozen.at(datetime(2026, 3, 31, 9, 0, tzinfo=BERLIN))
    with pytest.raises(Refused) as refused:
        ops.pause_clock(lead, "sam", terms, "too late for this")

    assert refused.value.reasons == [
        "a clock that has not run out (First outreach was due Mon 30 Mar, 15:00)"
    ]


def test_pausing_twice_and_resuming_a_running_clock_are_refused(frozen: Frozen) -> None:
    terms = pausable()
    lead = handed_off(terms)

    with pytest.raises(Refused) as running:
        ops.resume_clock(lead, "sam", terms)
    ops.pause_clock(lead, "sam", terms, "waiting on the customer")
    with pytest.raises(Refused) as twice:
        ops.pause_clock(lead, "sam", terms, "still waiting")

    assert running.value.reasons == ["a paused clock (First outreach is running)"]
    assert twice.value.reasons[0].startswith(
        "a running clock (First outreach is paused already, since"
    )


def test_an_outreach_on_a_paused_clock_meets_it_in_time(frozen: Frozen) -> None:
    terms = pausable()
    frozen.at(datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN))
    lead = handed_off(terms)
    frozen.at(datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN))
    ops.pause_clock(lead, "sam", terms, "waiting for the customer's reply")

    frozen.at(datetime(2026, 4, 2, 10, 0, tzinfo=BERLIN))
    ops.log_outreach(lead, "sam", terms, "call")

    clock = only_clock(lead)
    assert clock.paused_at is None
    assert clock.was_met_in_time()


def test_a_pause_needs_a_note_and_an_open_lead(frozen: Frozen) -> None:
    terms = pausable()
    lead = handed_off(terms)

    with pytest.raises(Refused) as refused:
        ops.pause_clock(lead, "sam", terms, "  ")

    assert refused.value.reasons == ["a note saying what you are waiting for"]


# -- what the worker looks at next -------------------------------------------------


def test_the_plan_is_the_warning_then_the_deadline_then_each_step() -> None:
    rule = parse(
        contract_text(
            extra_sla="warn_before_hours = 2",
            escalate='escalate = [{ to = "owner" }, { after_hours = 3, to = "team_lead" }]',
        )
    ).slas[0]
    calendar = clocks.calendar_for(BUSINESS_8, "business")
    start = datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN)
    clock = Clock(
        sla=rule.key,
        kind="business",
        within_hours=8,
        started_at=start,
        due_at=datetime(2026, 3, 30, 15, 0, tzinfo=BERLIN),
    )

    warned = clocks.plan(clock, rule, calendar)
    clock.warned_at = warned
    due = clocks.plan(clock, rule, calendar)
    clock.breached_at = due
    owner_step = clocks.plan(clock, rule, calendar)
    clock.escalation_level = 1
    lead_step = clocks.plan(clock, rule, calendar)
    clock.escalation_level = 2

    assert warned == datetime(2026, 3, 30, 13, 0, tzinfo=BERLIN)
    assert due == owner_step == clock.due_at
    assert lead_step == datetime(2026, 3, 31, 10, 0, tzinfo=BERLIN)
    assert clocks.plan(clock, rule, calendar) is None


def test_a_met_or_paused_clock_needs_nothing() -> None:
    rule = BUSINESS_8.slas[0]
    calendar = clocks.calendar_for(BUSINESS_8, "business")
    now = timezone.now()
    clock = Clock(sla=rule.key, kind="business", within_hours=8, started_at=now)
    clock.due_at = now + timedelta(hours=8)

    clock.paused_at = now
    paused = clocks.plan(clock, rule, calendar)
    clock.paused_at, clock.met_at = None, now
    met = clocks.plan(clock, rule, calendar)

    assert paused is None and met is None


# -- the pulse --------------------------------------------------------------------

WEEK = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


def imported(at: datetime, contacted: datetime | None, known: bool = True) -> Lead:
    """Write a lead as an import does: a created event, no clock."""
    lead = Lead.objects.create(
        stage="inquiry",
        created_at=at,
        first_outreach_at=contacted,
        contact_time_known=known,
        source="web_form",
    )
    version, _ = ContractVersion.objects.get_or_create(
        sha256=CALENDAR_24.sha256, defaults={"name": "x", "text": CALENDAR_24.text}
    )
    Event.objects.create(
        lead=lead, kind="created", at=at, actor="import", contract_version=version
    )
    return lead


def test_the_pulse_counts_clocks_met_missed_and_open(frozen: Frozen) -> None:
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for hours_later, contact_after in ((0, 2), (1, 30), (2, None), (100, None)):
        frozen.at(monday + timedelta(hours=hours_later))
        lead = handed_off(CALENDAR_24, email=f"l{hours_later}@example.com")
        if contact_after is not None:
            frozen.at(monday + timedelta(hours=hours_later + contact_after))
            ops.log_outreach(lead, "sam", CALENDAR_24, "call")

    now = monday + timedelta(hours=110)
    figures = clocks.pulse_figures(CALENDAR_24, *WEEK, now)

    assert figures == {
        "key": "first_outreach",
        "label": "First outreach",
        "within_hours": 24.0,
        "clock": "calendar",
        "starts": "inquiry",
        "met": 1,
        "missed": 2,
        "open": 1,
        "unknown": 0,
        "of": 4,
    }


def test_the_pulse_falls_back_to_contact_times_for_leads_without_a_clock() -> None:
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    imported(monday, monday + timedelta(hours=3))
    imported(monday, monday + timedelta(hours=30))
    imported(monday, None, known=False)
    imported(monday, None)
    imported(monday + timedelta(days=6), None)

    figures = clocks.pulse_figures(CALENDAR_24, *WEEK, monday + timedelta(days=7))

    assert (figures["met"], figures["missed"], figures["open"]) == (1, 2, 1)
    assert figures["unknown"] == 1
    assert figures["of"] == 5


def test_a_paused_clock_is_still_open_in_the_pulse(frozen: Frozen) -> None:
    terms = pausable(starts="inquiry", clock="calendar", within=24)
    frozen.at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    lead = handed_off(terms)
    ops.pause_clock(lead, "sam", terms, "waiting on the customer")

    start, end = (
        datetime(2026, 3, 2, tzinfo=BERLIN),
        datetime(2026, 3, 9, tzinfo=BERLIN),
    )
    figures = clocks.pulse_figures(terms, start, end, datetime(2026, 3, 20, tzinfo=UTC))

    assert (figures["open"], figures["missed"]) == (1, 0)


# -- the contract keys ----------------------------------------------------------------


def test_the_escalation_ladder_and_warning_are_read_from_the_contract() -> None:
    terms = parse(
        contract_text(
            extra_sla="warn_before_hours = 2",
            escalate=(
                'escalate = [{ after_hours = 0, to = "owner" }, '
                '{ after_hours = 4, to = "team_lead" }, { after_hours = 8, to = "admins" }]'
            ),
        )
    )

    rule = terms.slas[0]
    assert rule.warn_before_hours == 2
    assert rule.escalate == (
        Escalation(0, "owner"),
        Escalation(4, "team_lead"),
        Escalation(8, "admins"),
    )
    assert terms.business_hours.holidays_country == "DE"


def test_a_contract_without_a_ladder_escalates_to_the_owner_then_the_team_lead() -> (
    None
):
    text = contract_text()
    start = text.index("escalate = [")
    text = text[:start] + text[text.index("]\n", start) + 2 :]

    rule = parse(text).slas[0]

    assert rule.escalate == (Escalation(0, "owner"), Escalation(4, "team_lead"))
    assert rule.pausable is False and rule.warn_before_hours is None


def problems(text: str) -> list[str]:
    with pytest.raises(ContractError) as caught:
        parse(text)

    return caught.value.problems


def test_bad_clock_keys_are_refused_with_their_place() -> None:
    text = contract_text(
        extra_sla="warn_before_hours = 9",
        escalate=(
            'escalate = [{ after_hours = 4, to = "boss" }, '
            '{ after_hours = 1, to = "owner" }, { after_hours = -1, to = "admins" }]'
        ),
        country='holidays_country = "XX"\nholidays_region = "BY"',
    ).replace("pausable = false", 'pausable = "yes"')

    found = problems(text)

    assert (
        "sla[0].warn_before_hours: must be less than within_hours (8), not 9" in found
    )
    assert 'sla[0].pausable: must be true or false, not the string "yes"' in found
    assert (
        'sla[0].escalate[0].to: "boss" is not one of owner, team_lead, admins' in found
    )
    assert (
        "sla[0].escalate[1].after_hours: list the steps in order: 1 comes after 4"
        in found
    )
    assert "sla[0].escalate[2].after_hours: must be 0 or more, not -1" in found
    assert any(
        p.startswith('business_hours.holidays_country: "XX" is not a country')
        for p in found
    )


def test_a_region_must_belong_to_the_country() -> None:
    text = contract_text(country='holidays_country = "DE"\nholidays_region = "ZZ"')

    [found] = problems(text)

    assert found.startswith(
        'business_hours.holidays_region: "ZZ" is not a region of DE'
    )


def test_a_region_without_a_country_is_refused() -> None:
    text = contract_text(country='holidays_region = "BY"')

    assert problems(text) == [
        "business_hours.holidays_region: needs holidays_country as well"
    ]


def test_two_slas_with_one_key_are_refused() -> None:
    text = contract_text()
    block = text[text.index("[[sla]]") : text.index("# When the business clock")]

    found = problems(text.replace(block, block + block))

    assert found == ['sla[1].key: "first_outreach" is used by an earlier SLA']


def test_the_pulse_s_sla_figures_are_the_clocks_and_the_fallback_together(
    frozen: Frozen,
) -> None:
    from leadrelay.pulse.compute import pulse
    from leadrelay.pulse.week import Week

    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    frozen.at(monday)
    handed_off(CALENDAR_24)
    imported(monday, None, known=False)
    now = frozen.at(monday + timedelta(days=8))

    report = pulse(CALENDAR_24, Week(2026, 10), now)

    assert report["sla"] == clocks.pulse_figures(CALENDAR_24, *WEEK, now)
    assert (report["sla"]["missed"], report["sla"]["unknown"]) == (1, 1)
