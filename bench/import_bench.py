"""Measure `leadrelay import` of an Olist-shaped export against a bare SQLite insert.

    python bench/import_bench.py [--rows N ...] [--folder DIR]

For each N (default 1,000,000) it writes a sample export with
`leadrelay.sample.write_olist_like` (an MQL file of N rows and a closed-deals
file of about 10% of them), then measures, each in a child process of its own:

- the baseline: the MQL file read with the csv module, its 4 cells a row
  inserted as text with `executemany` into one table without indexes, in a
  fresh SQLite file in WAL mode (synchronous=NORMAL, as leadrelay sets it), one
  commit per 5,000 rows; the deals file is not read;
- `leadrelay import MQL DEALS --preset olist` into a fresh `leadrelay init`
  workspace.

It prints seconds, rows/s and peak RSS of each, the ratio import/baseline
(target at most 3x), the import's peak memory (target at most 300 MB, and
about the same for every N), and the leads and events written. It always
exits 0: these are measurements, not tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Measured,
    cpu_note,
    database_path,
    ensure_export,
    fresh_workspace,
    import_export,
    require_success,
    run_measured,
    table_counts,
    verdict,
)

RATIO_TARGET = 3.0
MEMORY_TARGET_MB = 300.0
# "About the same": the largest run's peak within this factor of the smallest's.
FLAT_TARGET = 1.25
BASELINE_BATCH = 5000


def baseline(csv_path: Path, database: Path) -> int:
    """Insert the MQL file's rows into `database` as plainly as SQLite allows."""
    database.unlink(missing_ok=True)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE mql (mql_id TEXT, first_contact_date TEXT, "
        "landing_page_id TEXT, origin TEXT)"
    )
    insert = "INSERT INTO mql VALUES (?, ?, ?, ?)"
    written = 0
    with csv_path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        next(reader)
        batch: list[list[str]] = []
        for row in reader:
            batch.append(row)
            if len(batch) == BASELINE_BATCH:
                db.execute("BEGIN")
                db.executemany(insert, batch)
                db.execute("COMMIT")
                written += len(batch)
                batch = []
        if batch:
            db.execute("BEGIN")
            db.executemany(insert, batch)
            db.execute("COMMIT")
            written += len(batch)
    db.close()
    return written


def replay(workspace: Path, target: Path) -> dict[str, float]:
    """Write the rows the import wrote again, with nothing but SQLite's own work.

    The leads and events are read from the workspace's database first (not
    timed), then inserted into an empty copy of its schema the way the import
    does: per 5,000 leads, in one transaction, the look-up of their ids, the
    id reservation, one executemany for the leads and one for their events,
    with the page cache and checkpoint interval the import sets for a batch
    and foreign keys on, as Django has them. What is left of the import's
    time beyond this is Python's.
    """
    import os

    os.environ["LEADRELAY_WORKSPACE"] = str(workspace)
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadrelay.settings"
    import django

    django.setup()
    from leadrelay.workflow.bulk import BATCH_CACHE_KIB, BATCH_CHECKPOINT_PAGES

    source = sqlite3.connect(f"file:{database_path(workspace)}?mode=ro", uri=True)
    schema = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND tbl_name IN ('leadrelay_lead', 'leadrelay_event', "
            "'leadrelay_contractversion') ORDER BY type = 'index'"
        )
    ]
    lead_columns = [r[1] for r in source.execute("PRAGMA table_info(leadrelay_lead)")]
    event_columns = [
        r[1]
        for r in source.execute("PRAGMA table_info(leadrelay_event)")
        if r[1] != "id"
    ]
    versions = source.execute("SELECT * FROM leadrelay_contractversion").fetchall()
    leads = source.execute("SELECT * FROM leadrelay_lead ORDER BY id").fetchall()
    events = source.execute(
        f"SELECT {', '.join(event_columns)} FROM leadrelay_event ORDER BY id"
    ).fetchall()
    source.close()

    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA cache_size={-BATCH_CACHE_KIB}")
    db.execute(f"PRAGMA wal_autocheckpoint={BATCH_CHECKPOINT_PAGES}")
    for sql in schema:
        db.execute(sql)
    marks = ", ".join("?" * len(versions[0]))
    db.executemany(f"INSERT INTO leadrelay_contractversion VALUES ({marks})", versions)

    insert_lead = (
        f"INSERT INTO leadrelay_lead ({', '.join(lead_columns)}) "
        f"VALUES ({', '.join('?' * len(lead_columns))})"
    )
    insert_event = (
        f"INSERT INTO leadrelay_event ({', '.join(event_columns)}) "
        f"VALUES ({', '.join('?' * len(event_columns))})"
    )
    external_id = lead_columns.index("external_id")
    lead_id = event_columns.index("lead_id")
    started, cpu = time.perf_counter(), time.process_time()
    first_event = 0
    for start in range(0, len(leads), BASELINE_BATCH):
        batch = leads[start : start + BASELINE_BATCH]
        last_event = first_event
        while last_event < len(events) and events[last_event][lead_id] <= batch[-1][0]:
            last_event += 1
        ids = [row[external_id] for row in batch]
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "SELECT id FROM leadrelay_lead WHERE external_id IN "
            f"({', '.join('?' * len(ids))})",
            ids,
        ).fetchall()
        db.execute("SELECT COALESCE(MAX(id), 0) FROM leadrelay_lead").fetchone()
        db.executemany(insert_lead, batch)
        db.executemany(insert_event, events[first_event:last_event])
        db.execute("COMMIT")
        first_event = last_event
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return {"seconds": seconds, "cpu": cpu, "leads": len(leads), "events": len(events)}


def measure_replay(workspace: Path, target: Path) -> dict[str, float]:
    argv = [sys.executable, __file__, "--replay-child", str(workspace), str(target)]
    measured = run_measured(argv)
    require_success("the replay", measured)
    return json.loads(measured.stdout)


def measure_baseline(csv_path: Path, database: Path) -> Measured:
    argv = [sys.executable, __file__, "--baseline-child", str(csv_path), str(database)]
    measured = run_measured(argv)
    require_success("the baseline", measured)
    return measured


def line(what: str, rows: int, measured: Measured) -> str:
    rate = rows / measured.seconds if measured.seconds else 0.0
    return (
        f"  {what:<22} {rows:>10,} rows  {measured.seconds:8.2f} s  "
        f"{rate:>10,.0f} rows/s  peak RSS {measured.peak_mb:7.1f} MB  "
        f"(CPU {measured.cpu_seconds:.2f} s)"
    )


def bench(root: Path, rows: int, replaying: bool) -> float:
    """Measure one size; return the import's peak RSS in MB."""
    print(f"\n== {rows:,} rows ==")
    mql, deals, made = ensure_export(root, rows)
    with deals.open(encoding="utf-8") as file:
        deal_rows = sum(1 for _ in file) - 1
    made_note = "reused" if made is None else f"written in {made:.1f} s"
    print(
        f"  export: {mql.name} ({rows:,} rows) and {deals.name} ({deal_rows:,} rows), {made_note}"
    )
    print(f"          in {mql.parent}")

    base_db = mql.parent.parent / "baseline.sqlite3"
    base = measure_baseline(mql, base_db)
    base_rows = int(base.stdout.strip() or 0)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base_db}{suffix}").unlink(missing_ok=True)

    workspace = fresh_workspace(root, rows)
    run = import_export(workspace, mql, deals)
    summary = json.loads(run.stdout)["import"]
    counts = table_counts(database_path(workspace))

    print(line("baseline executemany", base_rows, base))
    print(line("leadrelay import", rows, run))
    ratio = run.seconds / base.seconds
    print(f"  import / baseline: {ratio:.2f}x, {verdict(ratio, RATIO_TARGET, 'x')}")
    cpu_ratio = run.cpu_seconds / base.cpu_seconds
    print(f"  the same in CPU time: {cpu_ratio:.2f}x")
    print(
        f"  import peak RSS: {run.peak_mb:.1f} MB, {verdict(run.peak_mb, MEMORY_TARGET_MB, ' MB')}"
    )
    print(
        "  import summary: "
        + ", ".join(
            f"{key} {summary[key]:,}"
            for key in ("read", "created", "updated", "unchanged", "rejected")
        )
        + f"; {summary['seconds']:.2f} s inside the command"
    )
    written = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    print(f"  written: {written}")
    size = sum(
        Path(f"{database_path(workspace)}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{database_path(workspace)}{suffix}").exists()
    )
    print(f"  database: {database_path(workspace)} ({size / 1e6:,.0f} MB with its WAL)")
    if replaying:
        floor = measure_replay(workspace, mql.parent.parent / "replay.sqlite3")
        share = floor["seconds"] / run.seconds
        print(
            f"  SQLite alone (the same rows replayed with executemany): "
            f"{floor['seconds']:.2f} s (CPU {floor['cpu']:.2f} s), "
            f"{floor['seconds'] / base.seconds:.2f}x the baseline, "
            f"{share:.0%} of the import's time"
        )
    return run.peak_mb


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--baseline-child":
        print(baseline(Path(sys.argv[2]), Path(sys.argv[3])))
        return

    if len(sys.argv) == 4 and sys.argv[1] == "--replay-child":
        print(json.dumps(replay(Path(sys.argv[2]), Path(sys.argv[3]))))
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[1_000_000],
        help="rows of the MQL file; several sizes compare peak memory (default 1000000)",
    )
    parser.add_argument(
        "--folder",
        type=Path,
        help="keep the exports and workspaces here, for pulse_bench.py "
        "(default: a temporary folder, removed at the end)",
    )
    parser.add_argument(
        "--no-replay",
        action="store_true",
        help="skip replaying the import's rows with bare executemany (SQLite's share)",
    )
    args = parser.parse_args()

    root = args.folder or Path(tempfile.mkdtemp(prefix="leadrelay-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"import benchmark ({cpu_note()})")
    print(
        "baseline: csv.reader over the MQL file, its 4 cells inserted as text into one "
        "table without indexes, executemany and a commit per 5,000 rows, WAL, "
        "synchronous=NORMAL; the deals file is not read"
    )
    print(
        "import: leadrelay import MQL DEALS --preset olist into a fresh workspace "
        "(the deals file, about 10% of the rows, is joined on mql_id)"
    )
    peaks: dict[int, float] = {}
    try:
        for rows in args.rows:
            peaks[rows] = bench(root, rows, not args.no_replay)
    finally:
        if args.folder is None:
            shutil.rmtree(root, ignore_errors=True)

    if len(peaks) > 1:
        small, large = min(peaks), max(peaks)
        flat = peaks[large] / peaks[small]
        print(
            f"\npeak RSS {large:,} rows / {small:,} rows: {flat:.2f}x "
            f"({peaks[large]:.1f} / {peaks[small]:.1f} MB), {verdict(flat, FLAT_TARGET, 'x')}"
        )


if __name__ == "__main__":
    main()
