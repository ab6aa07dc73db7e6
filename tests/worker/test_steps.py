"""The worker's steps, driven by the test's clock, against real SMTP and webhook servers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from leadrelay.models import Clock, Delivery, Notification
from leadrelay.notify import compose
from leadrelay.sla.worker import Worker
from leadrelay.workflow import ops
from notify.fixtures import BERLIN, Frozen, contract, crew, handed_off
from notify.servers import Hook, Mailbox

pytestmark = pytest.mark.django_db

TERMS = contract()
FRIDAY = datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN)
#: Eight business hours after FRIDAY, the clocks having gone forward on Sunday.
DUE = datetime(2026, 3, 30, 15, 0, tzinfo=BERLIN)
#: Four business hours after DUE, when the team lead hears of it.
TEAM_LEAD_STEP = datetime(2026, 3, 31, 11, 0, tzinfo=BERLIN)


def worker(name: str = "w1", terms: Any = TERMS, **kwargs: Any) -> Worker:
    return Worker(name=name, contract=terms, **kwargs)


def at(w: Worker, moment: datetime) -> Any:
    w.clock = lambda: moment
    return w.tick()


def sent(**filters: Any) -> list[Notification]:
    return list(Notification.objects.filter(**filters).order_by("id"))


@pytest.fixture
def lead(frozen: Frozen, mailbox: Mailbox, hook: Hook) -> Any:
    crew()
    frozen.at(FRIDAY)
    return handed_off(TERMS)


def test_nothing_goes_out_before_the_deadline(lead: Any, mailbox: Mailbox) -> None:
    tick = at(worker(), DUE - timedelta(minutes=1))

    assert not tick.did_work()
    assert not Notification.objects.exists()
    assert mailbox.messages == []


def test_the_owner_hears_of_the_breach_once_by_email_and_chat(
    lead: Any, mailbox: Mailbox, hook: Hook
) -> None:
    w = worker()

    first = at(w, DUE)
    again = at(w, DUE + timedelta(minutes=5))

    assert first.breaches == 1 and not again.did_work()
    email, chat = sent()
    assert (email.channel, email.recipient, email.status) == ("email", "sam", "sent")
    assert (chat.channel, chat.status, chat.attempts) == ("chat", "sent", 1)
    [message] = mailbox.to("sam@example.com")
    assert (
        message["Subject"] == "SLA breached: First outreach for Ana Lima (Lima Tools)"
    )
    body = message.get_payload(decode=True).decode()
    assert (
        "was due Mon 30 Mar 2026, 15:00 CEST, 8 business hours after the handoff"
        in body
    )
    assert "Owner: sam" in body
    [posted] = hook.bodies()
    assert posted["text"].startswith("sam: SLA breached: First outreach")
    assert posted["blocks"][0]["type"] == "section"
    clock = Clock.objects.get()
    assert clock.breached_at == DUE
    assert clock.escalation_level == 1
    assert clock.next_action_at == TEAM_LEAD_STEP
    assert clock.claimed_by == ""


def test_the_team_lead_hears_of_it_four_business_hours_later(
    lead: Any, mailbox: Mailbox, hook: Hook
) -> None:
    w = worker()
    at(w, DUE)

    early = at(w, TEAM_LEAD_STEP - timedelta(minutes=1))
    late = at(w, TEAM_LEAD_STEP)
    after = at(w, TEAM_LEAD_STEP + timedelta(days=3))

    assert not early.did_work() and late.escalations == 1 and not after.did_work()
    [message] = mailbox.to("kim@example.com")
    assert message["Subject"] == (
        "Escalated to the team lead: First outreach for Ana Lima (Lima Tools)"
    )
    assert "is 4 business hours overdue" in message.get_payload(decode=True).decode()
    assert [b["text"].split(":")[0] for b in hook.bodies()] == ["sam", "kim"]
    assert Clock.objects.get().next_action_at is None


def test_without_a_team_lead_the_admins_hear_of_it_and_are_told_why(
    frozen: Frozen, mailbox: Mailbox, hook: Hook
) -> None:
    crew(team_lead=False)
    frozen.at(FRIDAY)
    handed_off(TERMS)
    w = worker()

    at(w, DUE)
    at(w, TEAM_LEAD_STEP)

    [message] = mailbox.to("ada@example.com")
    body = message.get_payload(decode=True).decode()
    assert "Sent to ada: Berlin has no team lead set: sent to the admins." in body
    escalation = Notification.objects.get(kind="escalation", channel="email")
    assert escalation.because == "Berlin has no team lead set: sent to the admins"


def test_a_warning_goes_to_the_owner_before_the_deadline(
    frozen: Frozen, mailbox: Mailbox, hook: Hook
) -> None:
    terms = contract(extra_sla="warn_before_hours = 2")
    crew()
    frozen.at(FRIDAY)
    handed_off(terms)
    w = worker(terms=terms)

    tick = at(w, datetime(2026, 3, 30, 13, 0, tzinfo=BERLIN))
    at(w, datetime(2026, 3, 30, 14, 0, tzinfo=BERLIN))

    assert tick.warnings == 1
    assert mailbox.subjects("sam@example.com") == [
        "Due soon: First outreach for Ana Lima (Lima Tools)"
    ]
    assert Clock.objects.get().next_action_at == DUE


def test_a_clock_met_in_time_is_never_escalated(
    lead: Any, frozen: Frozen, mailbox: Mailbox
) -> None:
    frozen.at(DUE - timedelta(hours=1))
    ops.log_outreach(lead, "sam", TERMS, "call")

    tick = at(worker(), TEAM_LEAD_STEP + timedelta(days=1))

    assert not tick.did_work()
    assert mailbox.messages == []


def test_a_reassigned_lead_escalates_to_its_new_owner(
    lead: Any, frozen: Frozen, mailbox: Mailbox
) -> None:
    frozen.at(DUE - timedelta(hours=1))
    ops.assign(lead, "sam", TERMS, "sue")

    at(worker(), DUE)

    assert mailbox.subjects("sue@example.com") == [
        "SLA breached: First outreach for Ana Lima (Lima Tools)"
    ]
    assert mailbox.to("sam@example.com") == []


def test_a_lead_closed_before_its_deadline_is_not_alerted(
    lead: Any, frozen: Frozen, mailbox: Mailbox
) -> None:
    ops.close_lost(lead, "sam", TERMS, "no_fit", "They sell to consumers only.")

    tick = at(worker(), DUE)

    assert tick.closed == 1 and tick.breaches == 0
    assert mailbox.messages == []
    clock = Clock.objects.get()
    assert clock.ended_at == DUE and clock.next_action_at is None


def test_two_workers_taking_turns_send_each_alert_once(
    frozen: Frozen, mailbox: Mailbox, hook: Hook
) -> None:
    crew()
    frozen.at(FRIDAY)
    for i in range(30):
        handed_off(TERMS, email=f"lead{i}@example.com", name=f"Lead {i}")
    one, two = worker("one", batch=7), worker("two", batch=7)

    for _ in range(6):
        at(one, DUE)
        at(two, DUE)

    assert len(mailbox.to("sam@example.com")) == 30
    assert Notification.objects.filter(channel="email").count() == 30
    assert len(hook.bodies()) == 30
    assert not Clock.objects.filter(next_action_at__lte=DUE).exists()


def test_a_clock_a_worker_holds_waits_until_its_claim_runs_out(
    lead: Any, mailbox: Mailbox
) -> None:
    crashed, other = worker("crashed"), worker("other")
    # The first worker claims the clock and dies before acting on it.
    assert crashed.claim(Clock, Clock.objects.all(), DUE) == [lead.clocks.get().pk]

    meanwhile = at(other, DUE + timedelta(seconds=30))
    later = at(other, DUE + crashed.lease + timedelta(seconds=1))

    assert not meanwhile.did_work()
    assert later.breaches == 1
    assert len(mailbox.to("sam@example.com")) == 1


def test_notifications_a_crashed_worker_recorded_are_sent_by_another(
    lead: Any, mailbox: Mailbox, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = worker("crashed")

    def die(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("killed")

    monkeypatch.setattr("leadrelay.notify.deliver.send_claimed", die)
    with pytest.raises(SystemExit):
        at(crashed, DUE)
    monkeypatch.undo()
    pending = sent(status=Delivery.PENDING, claimed_by="crashed")

    other = worker("other")
    soon = at(other, DUE + timedelta(seconds=10))
    later = at(other, DUE + crashed.lease + timedelta(seconds=1))

    assert len(pending) == 2
    assert not soon.did_work()
    assert later.delivered.sent == 2
    assert len(mailbox.to("sam@example.com")) == 1 and len(hook.bodies()) == 1


def test_a_clock_that_fails_is_pushed_back_and_the_others_go_on(
    frozen: Frozen, mailbox: Mailbox, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    crew()
    frozen.at(FRIDAY)
    bad = handed_off(TERMS, email="bad@example.com", name="Bad Row")
    for i in range(3):
        handed_off(TERMS, email=f"ok{i}@example.com", name=f"Good {i}")
    real = compose.clock_message

    def fragile(kind: str, lead: Any, *args: Any) -> Any:
        if lead.pk == bad.pk:
            raise ValueError("cannot write this one")
        return real(kind, lead, *args)

    monkeypatch.setattr(compose, "clock_message", fragile)
    w = worker()

    tick = at(w, DUE)

    assert tick.breaches == 3 and tick.pushed_back == 1
    assert len(mailbox.to("sam@example.com")) == 3
    clock = Clock.objects.get(lead=bad)
    assert clock.attempts == 1
    assert clock.last_error == "ValueError: cannot write this one"
    assert clock.next_action_at == DUE + timedelta(minutes=1)
    assert clock.breached_at is None and clock.claimed_by == ""

    monkeypatch.setattr(compose, "clock_message", real)
    retried = at(w, DUE + timedelta(minutes=1))

    assert retried.breaches == 1
    assert len(mailbox.to("sam@example.com")) == 4
    assert Clock.objects.get(lead=bad).attempts == 0


def test_the_loop_drains_a_backlog_larger_than_a_batch_and_stops_once_idle(
    frozen: Frozen, mailbox: Mailbox, hook: Hook
) -> None:
    crew()
    frozen.at(FRIDAY)
    for i in range(25):
        handed_off(TERMS, email=f"lead{i}@example.com")
    lines: list[str] = []
    w = worker(batch=10, clock=lambda: DUE)

    w.run(interval=60, once=True, report=lines.append)

    assert len(mailbox.to("sam@example.com")) == 25
    assert len(lines) == 3
    assert lines[0] == "2026-03-30 13:00:00 10 breaches, sent 20"


def test_the_summary_line_names_what_a_tick_did(lead: Any) -> None:
    tick = at(worker(), DUE)

    assert tick.line() == "2026-03-30 13:00:00 1 breach, sent 2"


def test_a_tick_that_fails_is_logged_and_the_loop_goes_on(
    lead: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = worker(clock=lambda: DUE)
    real = w.tick
    calls: list[int] = []

    def flaky() -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        if len(calls) == 3:
            w.stop.set()
        return real()

    monkeypatch.setattr(w, "tick", flaky)

    w.run(interval=0.01)

    assert len(calls) == 3
    assert len(mailbox.to("sam@example.com")) == 1
