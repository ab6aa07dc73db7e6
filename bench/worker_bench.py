"""Time worker ticks on a table of a million open SLA clocks.

    python bench/worker_bench.py [--clocks N] [--postgres URL] [--folder DIR]

It writes N clock rows (default 1,000,000) with executemany, all with a
deadline still to come, into a fresh workspace database. It then makes 100
of them due and times worker ticks (median of 5 after a warm-up, each on
fresh due rows): finding and claiming them, and recording their breaches
(target: the two together at most 50 ms); then sending their 200 messages,
timed apart.
Email goes to Django's in-memory backend and chat to a webhook server this
script runs on 127.0.0.1, so what is timed is leadrelay's side of sending.
Then it makes 10,000 due and times the ticks that drain them, 100 a tick,
without sending. An idle tick, and the same 100 due rows in a table of
10,000 clocks, show that a tick costs what the due rows cost, not what the
table holds.

It runs on SQLite (a file in DIR, default a temporary folder), and also on
PostgreSQL when --postgres names a server
(postgresql://postgres@127.0.0.1:5432/postgres): a database
`leadrelay_worker_bench` is created there and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cpu_note, leadrelay_command, verdict  # noqa: E402

TICK_TARGET_MS = 50.0
RUNS = 5
LEADS = 1000
NOW = datetime(2026, 3, 30, 13, 0, tzinfo=UTC)
BENCH_DATABASE = "leadrelay_worker_bench"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL to run on too")
    parser.add_argument("--folder", type=Path, help="where the SQLite file goes")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.clocks)
        return

    print(f"worker bench: {args.clocks:,} open clocks; {cpu_note()}")
    folder = args.folder or Path(tempfile.mkdtemp(prefix="leadrelay-worker-bench-"))
    runs = [("SQLite", "sqlite:///" + str(folder / "workspace" / "leadrelay.sqlite3"))]
    if args.postgres:
        runs.append(("PostgreSQL", _pg_url(args.postgres, BENCH_DATABASE)))

    for label, url in runs:
        workspace = folder / "workspace"
        shutil.rmtree(workspace, ignore_errors=True)
        workspace.mkdir(parents=True)
        if label == "PostgreSQL":
            _pg_admin(
                args.postgres, f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"
            )
            _pg_admin(args.postgres, f"CREATE DATABASE {BENCH_DATABASE}")
        env = {**os.environ, "LEADRELAY_WORKSPACE": str(workspace)}
        env["LEADRELAY_DATABASE_URL"] = url
        subprocess.run(
            [*leadrelay_command(), "init", str(workspace)],
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"\n== {label}")
        sys.stdout.flush()
        try:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--clocks",
                    str(args.clocks),
                ],
                env=env,
                check=True,
            )
        finally:
            if label == "PostgreSQL":
                _pg_admin(
                    args.postgres,
                    f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)",
                )

    if not args.folder:
        shutil.rmtree(folder, ignore_errors=True)


def _pg_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _pg_admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql)


# -- in the child, with Django set up on the bench database --------------------------


def child(count: int) -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_ALLOW_PRIVATE_WEBHOOKS = ("127.0.0.1/32",)
    with webhook() as url:
        settings.NOTIFY_CHAT_WEBHOOK_URL = url
        bench(count)


def bench(count: int) -> None:
    from django.db import connection

    from leadrelay.workspace import load_contract

    contract = load_contract()
    started = time.perf_counter()
    lead_ids = seed(contract, count)
    print(f"wrote {count:,} clocks in {time.perf_counter() - started:.1f} s")

    print(f"due-rows query plan: {plan_of_due_query()}")
    idle = [timed_tick(contract, 0)[0] for _ in range(RUNS)]
    print(f"idle tick (nothing due): {statistics.median(idle):.2f} ms")

    timed_tick(contract, 100, lead_ids)  # warm-up: first queries, caches
    rows = [timed_tick(contract, 100, lead_ids) for _ in range(RUNS)]
    find, act, send = (statistics.median(r[i] for r in rows) for i in range(3))
    print(
        f"100 due of {count:,}: find+claim {find:.1f} ms, record breaches "
        f"{act:.1f} ms, tick without sending {find + act:.1f} ms: "
        f"{verdict(find + act, TICK_TARGET_MS, ' ms')}"
    )
    print(
        f"  sending their 100 emails and 100 chat messages: {send:.0f} ms "
        f"({send / 200:.1f} ms a message)"
    )

    make_due(10_000, lead_ids)
    ticks = drain(contract)
    total = sum(t[0] + t[1] for t in ticks)
    find = statistics.median(t[0] for t in ticks)
    each = statistics.median(t[0] + t[1] for t in ticks)
    print(
        f"10,000 due of {count:,}: {len(ticks)} ticks of 100, median find+claim "
        f"{find:.1f} ms, {each:.1f} ms a tick without sending "
        f"({total / 1000:.2f} s in all, sending not timed here)"
    )

    # The same 100 due rows in a small table.
    clear(connection)
    lead_ids = seed(contract, 10_000)
    timed_tick(contract, 100, lead_ids)
    rows = [timed_tick(contract, 100, lead_ids) for _ in range(RUNS)]
    small = statistics.median(r[0] + r[1] for r in rows)
    print(f"100 due of 10,000: tick without sending {small:.1f} ms")


def seed(contract: Any, count: int) -> list[int]:
    """Write LEADS leads and `count` clocks, all due after NOW, with executemany."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from leadrelay.models import Clock, Lead
    from leadrelay.workflow.bulk import contract_version

    version = contract_version(contract)
    if not User.objects.filter(username="sam").exists():
        User.objects.create_user("sam", email="sam@example.com")
    Lead.objects.bulk_create(
        [
            Lead(stage="contacted", owner="sam", name=f"Lead {i}", created_at=NOW)
            for i in range(LEADS)
        ],
        batch_size=1000,
    )
    lead_ids = list(Lead.objects.values_list("pk", flat=True))
    table = Clock._meta.db_table
    columns = [
        "lead_id",
        "sla",
        "kind",
        "within_hours",
        "contract_version_id",
        "started_at",
        "due_at",
        "escalation_level",
        "paused_hours",
        "owner",
        "next_action_at",
        "claimed_by",
        "attempts",
        "last_error",
    ]
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    chunk = 50_000
    for first in range(0, count, chunk):
        rows = []
        for i in range(first, min(first + chunk, count)):
            # Deadlines spread over the four weeks after NOW.
            due = NOW + timedelta(seconds=60 + (i * 2419) % (28 * 86400))
            start = due - timedelta(hours=24)
            rows.append(
                (
                    lead_ids[i % len(lead_ids)],
                    "first_outreach",
                    "calendar",
                    24.0,
                    version.pk,
                    _db(start),
                    _db(due),
                    0,
                    0.0,
                    "sam",
                    _db(due),
                    "",
                    0,
                    "",
                )
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")
    return lead_ids


def _db(moment: datetime) -> Any:
    from django.db import connection

    if connection.vendor == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return moment


def clear(connection: Any) -> None:
    from leadrelay.models import Clock, Lead, Notification

    Notification.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Clock._meta.db_table}")
    Lead.objects.all().delete()


def make_due(count: int, lead_ids: list[int]) -> int:
    """Turn `count` open clocks into breached-at-NOW ones; clear the last run's."""
    from leadrelay.models import Clock, Notification

    Notification.objects.all().delete()
    Clock.objects.filter(escalation_level__gt=0).update(
        escalation_level=0,
        breached_at=None,
        next_action_at=NOW + timedelta(days=40),
        due_at=NOW + timedelta(days=40),
    )
    picked = list(
        Clock.objects.filter(next_action_at__gt=NOW)
        .order_by("next_action_at")
        .values_list("pk", flat=True)[:count]
    )
    due = NOW - timedelta(minutes=5)
    Clock.objects.filter(pk__in=picked).update(due_at=due, next_action_at=due)
    return len(picked)


def timed_tick(
    contract: Any, due: int, lead_ids: list[int] | None = None, send: bool = True
) -> tuple[float, float, float, int]:
    """Return the milliseconds a tick spends finding and claiming, recording, sending.

    The fourth figure is how many clocks it claimed.
    """
    from django.db import transaction

    from leadrelay.models import Clock
    from leadrelay.notify import deliver
    from leadrelay.sla.worker import Tick, Worker

    if due:
        make_due(due, lead_ids or [])
    worker = Worker(contract=contract, clock=lambda: NOW, batch=100)
    query = Clock.objects.filter(
        next_action_at__isnull=False, next_action_at__lte=NOW
    ).order_by("next_action_at")

    started = time.perf_counter()
    ids = worker.claim(Clock, query, NOW)
    claimed = time.perf_counter()
    notes = []
    if ids:
        with transaction.atomic():
            notes = worker._act(ids, contract, NOW, Tick(NOW))
    acted = time.perf_counter()
    if send:
        deliver.send_claimed(
            [n.pk for n in notes], worker.name, worker.clock, worker.lease
        )
    sent = time.perf_counter()
    return (
        1000 * (claimed - started),
        1000 * (acted - claimed),
        1000 * (sent - acted),
        len(ids),
    )


def drain(contract: Any) -> list[tuple[float, float, float, int]]:
    ticks = []
    while True:
        tick = timed_tick(contract, 0, send=False)
        if not tick[3]:
            return ticks
        ticks.append(tick)


def plan_of_due_query() -> str:
    from django.db import connection

    from leadrelay.models import Clock

    query = (
        Clock.objects.filter(next_action_at__isnull=False, next_action_at__lte=NOW)
        .filter(claimed_until__isnull=True)
        .order_by("next_action_at")
        .values_list("pk", flat=True)[:100]
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "; ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return "; ".join(row[0].strip() for row in cursor.fetchall())


@contextmanager
def webhook() -> Any:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
