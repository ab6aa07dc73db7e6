"""Measure JSON intake over loopback against gunicorn, next to a bare Django view.

    .venv/bin/python bench/intake_bench.py [--seconds 30] [--clients 4]
        [--postgres postgresql://postgres@127.0.0.1:5432/leadrelay_bench | --no-postgres]

For each database (the embedded SQLite default, then PostgreSQL when it
answers on loopback) it makes a fresh workspace (`leadrelay init`, a
marketing key), starts `gunicorn leadrelay.wsgi -w 4 -b 127.0.0.1:PORT` on
a free port with LEADRELAY_BENCH_VIEWS=1, and runs, each for --seconds with
--clients client processes, each on an http.client connection of its own:

- bare: GET /api/v1/bench/constant, a Django view that returns a constant,
  through the same middleware: the ceiling of this server on this machine;
- intake: POST /api/v1/intake with a new email each time, so every request
  creates a lead and its event;
- intake+key: the same with an Idempotency-Key header, as a webhook sends.

It prints requests, leads/s, p50 and p99 latency and errors of each, checks
the leads stored against the 201s counted, and gives verdicts against the
targets (intake >= 500 leads/s, p99 <= 100 ms, intake >= 40% of bare).
Gunicorn's default sync worker closes each connection after its response,
so a client's keep-alive connection reconnects for every request; the bare
view pays the same. It always exits 0: these are measurements, not tests.
Everything it starts listens on 127.0.0.1 and is stopped before it exits.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cpu_note, leadrelay_command  # noqa: E402

LEADS_TARGET = 500.0
P99_TARGET_MS = 100.0
SHARE_TARGET = 0.40
WORKERS = 4
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/leadrelay_bench"


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    failures: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    @property
    def errors(self) -> int:
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return self.requests - ok + self.failures


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- one client process ------------------------------------------------------------------


def client(
    args: tuple[int, str, int, str, str, float, bool],
) -> tuple[int, list[float], dict[int, int], int]:
    """Send requests for `seconds`; return the count, latencies, statuses, failures."""
    number, kind, port, key, run_id, seconds, keyed = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures = 0
    sent = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sent += 1
        if kind == "bare":
            method, path, body = "GET", "/api/v1/bench/constant", None
            headers = {"Connection": "keep-alive"}
        else:
            email = f"{run_id}-{number}-{sent}@bench.example"
            body = json.dumps({"email": email, "source": "web_form"}).encode()
            method, path = "POST", "/api/v1/intake"
            headers = {
                "Connection": "keep-alive",
                "Content-Type": "application/json",
                "X-Api-Key": key,
            }
            if keyed:
                headers["Idempotency-Key"] = f"{run_id}-{number}-{sent}"
        started = time.perf_counter()
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            failures += 1
            conn.close()
            continue
        latencies.append(time.perf_counter() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    conn.close()
    return sent, latencies, statuses, failures


def measure(
    name: str, kind: str, port: int, key: str, clients: int, seconds: float, keyed: bool
) -> Result:
    run_id = f"{kind}{'k' if keyed else ''}{os.getpid()}{int(time.time())}"
    jobs = [(i, kind, port, key, run_id, seconds, keyed) for i in range(clients)]
    context = multiprocessing.get_context("fork")
    with context.Pool(clients) as pool:
        parts = pool.map(client, jobs)
    statuses: dict[int, int] = {}
    for _, _, part, _ in parts:
        for status, n in part.items():
            statuses[status] = statuses.get(status, 0) + n
    return Result(
        name=name,
        requests=sum(p[0] for p in parts),
        # Each client sends for `seconds` from its own start.
        seconds=seconds,
        latencies=[lat for p in parts for lat in p[1]],
        statuses=statuses,
        failures=sum(p[3] for p in parts),
    )


# -- the server ------------------------------------------------------------------------


def environment(workspace: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["LEADRELAY_WORKSPACE"] = str(workspace)
    env["LEADRELAY_BENCH_VIEWS"] = "1"
    env.pop("LEADRELAY_DATABASE_URL", None)
    if database_url:
        env["LEADRELAY_DATABASE_URL"] = database_url
    return env


def fresh_postgres(url: str) -> str | None:
    """Drop and create the bench's database on the loopback server; None if it is absent."""
    import psycopg
    from psycopg import sql

    parts = url.rsplit("/", 1)
    name = parts[1]
    try:
        admin = psycopg.connect(
            f"{parts[0]}/postgres", connect_timeout=3, autocommit=True
        )
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL: skipped, not reachable at {parts[0]} ({exc})".strip())
        return None

    with admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


def prepare(workspace: Path, env: dict[str, str]) -> str:
    """Run `leadrelay init` and make a marketing key; return the key."""
    command = leadrelay_command()
    for argv in ([*command, "init", str(workspace)],):
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} failed:\n{done.stderr}")
    made = subprocess.run(
        [*command, "apikey", "create", "--name", "bench", "--role", "marketing"],
        env=env,
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        sys.exit(f"bench: apikey create failed:\n{made.stderr}")
    return made.stdout.strip()


def start_gunicorn(
    env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [
        str(gunicorn),
        "leadrelay.wsgi",
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
    ]
    server = subprocess.Popen(
        argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/bench/constant")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    sys.exit(f"bench: gunicorn did not answer on 127.0.0.1:{port}; see {log}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def stored_leads(env: dict[str, str]) -> int:
    script = (
        "import django; django.setup(); from leadrelay.models import Lead; "
        "print(Lead.objects.count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "leadrelay.settings"},
        capture_output=True,
        text=True,
    )
    return int(done.stdout.strip() or -1)


# -- a run on one database ----------------------------------------------------------------


def run_on(
    label: str, database_url: str | None, args: argparse.Namespace, root: Path
) -> None:
    workspace = root / label.lower()
    env = environment(workspace, database_url)
    key = prepare(workspace, env)
    port = free_port()
    server = start_gunicorn(env, port, root / f"{label.lower()}-gunicorn.log")
    try:
        # A short warm-up, so that every worker has loaded and connected.
        measure("warm-up", "intake", port, key, args.clients, 2.0, False)
        measure("warm-up", "bare", port, key, args.clients, 2.0, False)
        before = stored_leads(env)
        results = [
            measure("bare view", "bare", port, key, args.clients, args.seconds, False),
            measure("intake", "intake", port, key, args.clients, args.seconds, False),
            measure(
                "intake+key", "intake", port, key, args.clients, args.seconds, True
            ),
        ]
        after = stored_leads(env)
    finally:
        stop(server)

    report(label, results, after - before)


def report(label: str, results: list[Result], stored: int) -> None:
    print(f"\n{label}: gunicorn -w {WORKERS} (sync workers)")
    print(
        f"  {'what':<12} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for r in results:
        print(
            f"  {r.name:<12} {r.requests:>9} {r.rate:>8.0f} {r.percentile(0.50):>8.1f} "
            f"{r.percentile(0.99):>8.1f} {r.errors:>7}"
        )
    bare, *intakes = results
    created = sum(r.statuses.get(201, 0) for r in intakes)
    print(f"  leads stored during the runs: {stored} (201 answers counted: {created})")
    for r in intakes:
        share = r.rate / bare.rate if bare.rate else 0.0
        print(
            f"  {r.name}: {verdict_at_least(r.rate, LEADS_TARGET, ' leads/s')}; "
            f"p99 {verdict_at_most(r.percentile(0.99), P99_TARGET_MS, ' ms')}; "
            f"{share:.0%} of bare {verdict_at_least(share, SHARE_TARGET, '', percent=True)}"
        )


def verdict_at_least(
    value: float, target: float, unit: str, percent: bool = False
) -> str:
    shown = f"{target:.0%}" if percent else f"{target:g}{unit}"
    if value >= target:
        return f"met (target >= {shown})"
    return f"MISSED (target >= {shown})"


def verdict_at_most(value: float, target: float, unit: str) -> str:
    if value <= target:
        return f"met (target <= {target:g}{unit})"
    return f"MISSED by {value / target:.2f}x (target <= {target:g}{unit})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="each run's length (default 30)"
    )
    parser.add_argument(
        "--clients", type=int, default=4, help="client processes (default 4)"
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="a database on loopback to drop and recreate",
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="measure SQLite only"
    )
    args = parser.parse_args()

    print(
        f"intake bench: {args.clients} clients, {args.seconds:g} s a run; {cpu_note()}"
    )
    with tempfile.TemporaryDirectory(prefix="leadrelay-intake-bench-") as folder:
        root = Path(folder)
        run_on("SQLite", None, args, root)
        if not args.no_postgres:
            url = fresh_postgres(args.postgres)
            if url:
                run_on("PostgreSQL", url, args, root)


if __name__ == "__main__":
    main()
