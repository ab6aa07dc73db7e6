"""Worker processes against one PostgreSQL database: each breach notified once.

These start real `leadrelay worker` processes on a database of their own
(`leadrelay_workers_test_<pid>`, created and dropped here), with a real SMTP server
and a chat webhook on 127.0.0.1. Time is given to the workers with --now;
nothing waits for a deadline. They skip when PostgreSQL is not reachable at
postgresql://postgres@127.0.0.1:5432 (LEADRELAY_TEST_POSTGRES_URL names
another server).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from notify.fixtures import BERLIN, contract_text
from notify.servers import Hook, Mailbox, smtp_server, webhook_server

pytestmark = pytest.mark.slow

#: A database of this run's own, so that runs side by side do not meet.
DATABASE = f"leadrelay_workers_test_{os.getpid()}"
SERVER = os.environ.get(
    "LEADRELAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LEADRELAY = str(Path(sys.executable).parent / "leadrelay")
SEED = Path(__file__).with_name("seed_workers.py")

FRIDAY = datetime(2026, 3, 27, 15, 0, tzinfo=BERLIN)
DUE = datetime(2026, 3, 30, 15, 0, tzinfo=BERLIN)
TEAM_LEAD_STEP = datetime(2026, 3, 31, 11, 0, tzinfo=BERLIN)
#: Longer than a worker's claim (WORKER_LEASE, 120 s): a dead worker's
#: claims have run out by then.
PAST_A_CLAIM = timedelta(seconds=121)
LEADS = 300


def _url(database: str) -> str:
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture
def database() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {SERVER}: {exc}".strip())

    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
        try:
            yield _url(DATABASE)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


@pytest.fixture
def servers() -> Iterator[tuple[Mailbox, int, Hook]]:
    with smtp_server() as (box, port), webhook_server() as hook:
        yield box, port, hook


@pytest.fixture
def workspace(
    database: str, servers: tuple[Mailbox, int, Hook], tmp_path: Path
) -> dict[str, str]:
    """Return the environment of a workspace on the test database, seeded with leads."""
    box, port, hook = servers
    (tmp_path / "funnel.toml").write_text(contract_text(), encoding="utf-8")
    env = {
        **os.environ,
        "LEADRELAY_WORKSPACE": str(tmp_path),
        "LEADRELAY_DATABASE_URL": database,
        "LEADRELAY_SMTP_HOST": "127.0.0.1",
        "LEADRELAY_SMTP_PORT": str(port),
        "LEADRELAY_SMTP_TLS": "off",
        "LEADRELAY_EMAIL_FROM": "leadrelay@example.com",
        "LEADRELAY_CHAT_WEBHOOK_URL": hook.url(),
        "LEADRELAY_ALLOW_PRIVATE_WEBHOOKS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "leadrelay.settings",
    }
    run([LEADRELAY, "migrate", "-v", "0"], env)
    run([sys.executable, str(SEED), str(LEADS), FRIDAY.isoformat()], env)
    return env


def run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def worker(
    env: dict[str, str], now: datetime, batch: int = 20
) -> subprocess.Popen[str]:
    argv = [
        LEADRELAY,
        "worker",
        "--once",
        "--now",
        now.isoformat(),
        "--batch",
        str(batch),
    ]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(*processes: subprocess.Popen[str]) -> None:
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]


def rows(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(env["LEADRELAY_DATABASE_URL"]) as conn:
        return list(conn.execute(sql).fetchall())


def notifications(env: dict[str, str]) -> Counter[tuple[str, str, str]]:
    found = rows(env, "SELECT kind, channel, status FROM leadrelay_notification")
    return Counter(found)


def test_two_workers_notify_every_breach_and_escalation_exactly_once(
    workspace: dict[str, str], servers: tuple[Mailbox, int, Hook]
) -> None:
    box, _, hook = servers

    finish(worker(workspace, DUE), worker(workspace, DUE))
    breaches = len(box.messages), len(hook.requests)
    finish(worker(workspace, TEAM_LEAD_STEP), worker(workspace, TEAM_LEAD_STEP))

    assert breaches == (LEADS, LEADS)
    assert len(box.to("sam@example.com")) == LEADS
    assert len(box.to("kim@example.com")) == LEADS
    assert len(set(box.message_ids())) == len(box.messages) == 2 * LEADS
    assert len(hook.requests) == 2 * LEADS
    assert notifications(workspace) == {
        ("breach", "email", "sent"): LEADS,
        ("breach", "chat", "sent"): LEADS,
        ("escalation", "email", "sent"): LEADS,
        ("escalation", "chat", "sent"): LEADS,
    }
    levels = rows(
        workspace, "SELECT escalation_level, count(*) FROM leadrelay_clock GROUP BY 1"
    )
    assert levels == [(2, LEADS)]


def test_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(
    workspace: dict[str, str], servers: tuple[Mailbox, int, Hook]
) -> None:
    box, _, hook = servers
    doomed = worker(workspace, DUE, batch=10)
    deadline = time.monotonic() + 60
    while len(box.messages) < LEADS // 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    at_kill = len(box.messages)

    # Later than the dead worker's claims: two workers take over its rows.
    later = DUE + PAST_A_CLAIM
    finish(worker(workspace, later), worker(workspace, later))

    assert LEADS // 4 <= at_kill < LEADS
    ids = box.message_ids()
    assert len(set(ids)) == LEADS
    # A message the server had accepted in the instant before the kill, not
    # yet marked sent, may go out again (with the same Message-ID); no more.
    assert len(ids) - len(set(ids)) <= 1
    assert LEADS <= len(hook.requests) <= LEADS + 1
    assert len(ids) + len(hook.requests) <= 2 * LEADS + 1
    assert notifications(workspace) == {
        ("breach", "email", "sent"): LEADS,
        ("breach", "chat", "sent"): LEADS,
    }
    [(unclaimed,)] = rows(
        workspace, "SELECT count(*) FROM leadrelay_clock WHERE claimed_by = ''"
    )
    assert unclaimed == LEADS


def test_sigterm_mid_work_finishes_the_step_and_leaves_no_claim_behind(
    workspace: dict[str, str], servers: tuple[Mailbox, int, Hook]
) -> None:
    box, _, _ = servers
    argv = [LEADRELAY, "worker", "--batch", "5", "--now", DUE.isoformat()]
    process = subprocess.Popen(
        argv, env=workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    box.wait_for(1, seconds=60)

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert 0 < len(box.messages) < LEADS
    [(held,)] = rows(
        workspace, "SELECT count(*) FROM leadrelay_clock WHERE claimed_by <> ''"
    )
    [(unsent,)] = rows(
        workspace, "SELECT count(*) FROM leadrelay_notification WHERE status <> 'sent'"
    )
    assert (held, unsent) == (0, 0)
