"""A Friday-afternoon handoff in Berlin, watched by two workers at once.

The contract runs a business clock (Europe/Berlin, Monday to Friday 09:00 to
17:00, German public holidays) of 8 hours from the handoff, and escalates to
the owner at the deadline and to the team lead 4 business hours later. Two
workers tick together, each on its own database connection, at moments
the test chooses; the owner and then the team lead each get exactly one
email and one chat message, at the right hour.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

from leadrelay.models import Clock, Notification
from leadrelay.sla.worker import Worker
from notify.fixtures import BERLIN, Frozen, contract, crew, handed_off
from notify.servers import Hook, Mailbox

pytestmark = pytest.mark.django_db(transaction=True)

TERMS = contract()


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """Make the test database one that several connections can open at once.

    An in-memory SQLite database lives in one connection; for these tests the
    default database moves to a file, which every thread's connection opens.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return

    in_memory = connections["default"]
    settings = in_memory.settings_dict
    name = settings["NAME"]
    settings["NAME"] = str(tmp_path / "workers.sqlite3")
    connections["default"] = SQLiteWrapper(settings, "default")
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        connections["default"].close()
        settings["NAME"] = name
        connections["default"] = in_memory


def both_tick(workers: list[Worker], moment: datetime) -> None:
    """Let every worker tick at `moment`, all at once, each on its own connection."""
    start = threading.Barrier(len(workers), timeout=10)
    failures: list[BaseException] = []

    def tick(worker: Worker) -> None:
        worker.clock = lambda: moment
        start.wait()
        try:
            worker.run(interval=0.01, once=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not failures, failures


CASES = {
    # Friday 15:00 + 2 hours on Friday + 6 on Monday; the clocks go forward
    # on the Sunday between.
    "monday": (
        datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN),
        datetime(2026, 3, 30, 15, 0, tzinfo=BERLIN),
        datetime(2026, 3, 31, 11, 0, tzinfo=BERLIN),
    ),
    # Whit Monday, 25 May 2026, is a public holiday in all of Germany.
    "tuesday after whit monday": (
        datetime(2026, 5, 22, 15, 0, tzinfo=BERLIN),
        datetime(2026, 5, 26, 15, 0, tzinfo=BERLIN),
        datetime(2026, 5, 27, 11, 0, tzinfo=BERLIN),
    ),
    # Handed off on Good Friday: the clock starts on the Tuesday after
    # Easter Monday and runs its 8 hours that day.
    "over easter": (
        datetime(2026, 4, 3, 15, 0, tzinfo=BERLIN),
        datetime(2026, 4, 7, 17, 0, tzinfo=BERLIN),
        datetime(2026, 4, 8, 13, 0, tzinfo=BERLIN),
    ),
}


@pytest.mark.parametrize("handoff,due,team_lead_step", CASES.values(), ids=CASES)
def test_a_friday_handoff_breaches_on_time_and_escalates_once_to_each(
    shared_database: None,
    frozen: Frozen,
    mailbox: Mailbox,
    hook: Hook,
    handoff: datetime,
    due: datetime,
    team_lead_step: datetime,
) -> None:
    crew()
    frozen.at(handoff)
    handed_off(TERMS)
    assert Clock.objects.get().due_at == due
    workers = [
        Worker(name="one", contract=TERMS),
        Worker(name="two", contract=TERMS),
    ]

    for moment in (handoff + timedelta(hours=1), due - timedelta(minutes=1)):
        both_tick(workers, moment)
    quiet = len(mailbox.messages), len(hook.requests)
    both_tick(workers, due)
    both_tick(workers, due + timedelta(minutes=1))
    owner_only = len(mailbox.messages), len(hook.requests)
    both_tick(workers, team_lead_step - timedelta(minutes=1))
    both_tick(workers, team_lead_step)
    both_tick(workers, team_lead_step + timedelta(days=7))

    assert quiet == (0, 0)
    assert owner_only == (1, 1)
    [to_owner] = mailbox.to("sam@example.com")
    [to_lead] = mailbox.to("kim@example.com")
    assert to_owner["Subject"].startswith("SLA breached: First outreach")
    assert to_lead["Subject"].startswith("Escalated to the team lead: First outreach")
    assert len(mailbox.messages) == 2
    chats = [body["text"] for body in hook.bodies()]
    assert len(chats) == 2
    assert chats[0].startswith("sam: SLA breached")
    assert chats[1].startswith("kim: Escalated to the team lead")
    assert Notification.objects.filter(status="sent").count() == 4
    clock = Clock.objects.get()
    assert clock.breached_at == due and clock.escalation_level == 2
