"""The weekly digest: the pulse, by email and chat, once a week at the contract's time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from leadrelay.models import Digest, Notification
from leadrelay.notify.digest import slot
from leadrelay.pulse.week import Week
from leadrelay.sla.worker import Worker

from .fixtures import BERLIN, Frozen, contract, crew, handed_off
from .servers import Hook, Mailbox

pytestmark = pytest.mark.django_db

TERMS = contract(
    pulse_to='["team@example.com", "boss@example.com"]',
    pulse_chat=True,
)
#: The contract's pulse is due on Mondays at 09:00 in Berlin.
MONDAY_NINE = datetime(2026, 4, 13, 9, 0, tzinfo=BERLIN)


def tick(worker: Worker, moment: datetime) -> Any:
    worker.clock = lambda: moment
    return worker.tick()


def test_the_slot_is_the_last_pulse_time_and_it_reports_the_week_before() -> None:
    assert slot(TERMS, MONDAY_NINE) == (Week(2026, 15), MONDAY_NINE)
    assert slot(TERMS, MONDAY_NINE - timedelta(minutes=1)) == (
        Week(2026, 14),
        MONDAY_NINE - timedelta(weeks=1),
    )
    assert slot(TERMS, datetime(2026, 4, 16, 18, 0, tzinfo=BERLIN)) == (
        Week(2026, 15),
        MONDAY_NINE,
    )


def test_the_digest_goes_out_once_when_due_by_email_and_chat(
    frozen: Frozen, mailbox: Mailbox, hook: Hook
) -> None:
    crew()
    frozen.at(datetime(2026, 4, 8, 10, 0, tzinfo=BERLIN))
    handed_off(TERMS)
    one, two = Worker(name="one", contract=TERMS), Worker(name="two", contract=TERMS)
    # Week 15's clock breached on Thursday; its alerts are not the subject here.
    tick(one, datetime(2026, 4, 12, 20, 0, tzinfo=BERLIN))
    mailbox.messages.clear()
    hook.requests.clear()

    before = tick(one, MONDAY_NINE - timedelta(minutes=1))
    due = tick(one, MONDAY_NINE)
    other = tick(two, MONDAY_NINE + timedelta(minutes=1))
    later = tick(one, MONDAY_NINE + timedelta(days=3))

    assert before.digests == [] and other.digests == [] and later.digests == []
    assert due.digests == ["2026-W15"]
    assert Digest.objects.filter(week="2026-W15").count() == 1
    [to_team] = mailbox.to("team@example.com")
    assert len(mailbox.to("boss@example.com")) == 1
    assert to_team["Subject"] == "Pipeline pulse 2026-W15: 1 leads in"
    plain, html = [p for p in to_team.walk() if not p.is_multipart()]
    assert "Pipeline pulse 2026-W15" in plain.get_payload(decode=True).decode()
    page = html.get_payload(decode=True).decode()
    assert "<table" in page and "Contacted within the SLA" in page
    [posted] = hook.bodies()
    assert posted["text"].startswith(
        "Pipeline pulse 2026-W15: 1 leads in, SLA met 0 of 1"
    )
    assert posted["blocks"][1]["text"]["text"].startswith("```Pipeline pulse 2026-W15")
    kinds = Notification.objects.filter(digest__week="2026-W15").values_list(
        "channel", flat=True
    )
    assert sorted(kinds) == ["chat", "email", "email"]


def test_a_digest_whose_worker_died_is_taken_over_when_its_claim_runs_out(
    mailbox: Mailbox,
) -> None:
    dead = Worker(name="dead", contract=TERMS)
    Digest.objects.create(
        week="2026-W15",
        due_at=MONDAY_NINE,
        created_at=MONDAY_NINE,
        claimed_by="dead",
        claimed_until=MONDAY_NINE + dead.lease,
    )
    other = Worker(name="other", contract=TERMS)

    soon = tick(other, MONDAY_NINE + timedelta(seconds=30))
    later = tick(other, MONDAY_NINE + dead.lease + timedelta(seconds=1))

    assert soon.digests == [] and later.digests == ["2026-W15"]
    assert len(mailbox.to("team@example.com")) == 1


def test_no_digest_is_made_for_nobody(mailbox: Mailbox, hook: Hook) -> None:
    terms = contract()

    done = tick(Worker(contract=terms), MONDAY_NINE)

    assert done.digests == []
    assert not Digest.objects.exists()
