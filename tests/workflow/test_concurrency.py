"""Races between people, each on a database connection of their own.

Every worker is a thread with its own connection, released together by a
barrier so that their transactions overlap. On PostgreSQL they use the test
database; an in-memory SQLite database cannot be shared between connections,
so on SQLite these tests move to a database file of their own for the time
they run.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.utils import timezone

from leadrelay.contract import default_text, parse
from leadrelay.models import Assignment, Event, Lead, Team, TeamMember
from leadrelay.workflow import ops
from leadrelay.workflow.ops import Refused

pytestmark = pytest.mark.django_db(transaction=True)

CONTRACT = parse(default_text())
SELLERS = ("sam", "sue", "tom", "kim")


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """Make the default database one that several connections can open at once."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return

    # Every thread builds its connection from this one settings dict, so
    # pointing it at a file points every new connection there; this thread
    # gets a fresh connection to the file, and the in-memory one is kept aside.
    in_memory = connections["default"]
    settings = in_memory.settings_dict
    name = settings["NAME"]
    settings["NAME"] = str(tmp_path / "race.sqlite3")
    connections["default"] = SQLiteWrapper(settings, "default")
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        connections["default"].close()
        settings["NAME"] = name
        connections["default"] = in_memory


def people() -> None:
    sales, _ = Group.objects.get_or_create(name="sales")
    marketing, _ = Group.objects.get_or_create(name="marketing")
    User.objects.create_user("mia").groups.add(marketing)
    for name in SELLERS:
        User.objects.create_user(name).groups.add(sales)


def ready_lead(i: int) -> Lead:
    due = timezone.now() + timedelta(days=2)
    return ops.create(
        "mia",
        CONTRACT,
        {
            "email": f"lead{i}@example.com",
            "source": "web_form",
            "industry": "software",
            "company_size": "11-50",
            "location": "Berlin",
            "intent": "wants a demo",
            "next_action": "call",
            "next_action_owner": "mia",
            "next_action_due": due,
        },
    )


def race(workers: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each worker in its own thread and connection, all released at once.

    Returns each worker's result: its return value, or the exception it raised.
    """
    barrier = threading.Barrier(len(workers))
    results: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[name] = work()
        except Exception as exc:  # the caller sorts refusals from failures
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in workers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    return results


def test_the_race_runs_on_a_database_that_connections_share(
    shared_database: None,
) -> None:
    seen = race({"a": lambda: connection.settings_dict["NAME"], "b": lambda: 1})

    if connection.vendor == "sqlite":
        assert seen["a"].endswith("race.sqlite3")
    else:
        assert connection.vendor == "postgresql"


def test_people_claiming_one_lead_at_once_leave_one_owner_and_clear_refusals(
    shared_database: None,
) -> None:
    people()
    leads = [ops.handoff(ready_lead(i), "mia", CONTRACT) for i in range(12)]

    for lead in leads:
        results = race(
            {
                name: (lambda n=name, lead=lead: ops.claim(lead, n, CONTRACT))
                for name in SELLERS
            }
        )

        winners = [name for name, r in results.items() if isinstance(r, Lead)]
        refused = [r for r in results.values() if isinstance(r, Refused)]
        failed = [r for r in results.values() if not isinstance(r, Lead | Refused)]
        assert failed == []
        assert len(winners) == 1
        assert len(refused) == len(SELLERS) - 1
        [winner] = winners
        for refusal in refused:
            assert refusal.action == "claim"
            assert refusal.reasons in (
                [f"an unowned lead ({winner} claimed it first)"],
                [f"an unowned lead ({winner} owns it)"],
            )

        stored = Lead.objects.get(pk=lead.pk)
        assert stored.owner == winner
        owners = Event.objects.filter(lead=lead, kind="owner")
        assert list(owners.values_list("actor", flat=True)) == [winner]


def test_closing_one_lead_won_and_lost_at_once_leaves_one_outcome(
    shared_database: None,
) -> None:
    people()
    for i in range(6):
        lead = ops.handoff(ready_lead(i), "mia", CONTRACT, owner="sam")

        results = race(
            {
                "won": lambda lead=lead: ops.close_won(lead, "sam", CONTRACT),
                "lost": lambda lead=lead: ops.close_lost(
                    lead, "sue", CONTRACT, "price", "They found it too dear."
                ),
            }
        )

        outcomes = {name for name, r in results.items() if isinstance(r, Lead)}
        assert len(outcomes) == 1
        [loser] = [r for r in results.values() if not isinstance(r, Lead)]
        assert isinstance(loser, Refused)
        [outcome] = outcomes
        stored = Lead.objects.get(pk=lead.pk)
        assert stored.stage == outcome
        closing = Event.objects.filter(lead=lead, kind__in=("won", "lost"))
        assert list(closing.values_list("kind", flat=True)) == [outcome]


def test_handoffs_at_once_still_take_turns_in_the_rotation(
    shared_database: None,
) -> None:
    people()
    team = Team.objects.create(name="Inside", assignment=Assignment.ROUND_ROBIN)
    for name in SELLERS:
        TeamMember.objects.create(team=team, user=User.objects.get(username=name))
    leads = [ready_lead(i) for i in range(16)]
    halves = {"first": leads[::2], "second": leads[1::2]}

    def hand_off(batch: list[Lead]) -> list[str]:
        return [ops.handoff(lead, "mia", CONTRACT, team=team).owner for lead in batch]

    results = race(
        {name: (lambda b=batch: hand_off(b)) for name, batch in halves.items()}
    )

    owners = Counter(owner for r in results.values() for owner in r)
    assert owners == {name: 4 for name in SELLERS}
    turns = TeamMember.objects.values_list("last_turn", flat=True)
    assert sorted(turns) == [13, 14, 15, 16]
    assert Team.objects.get().turns == 16
