"""Time one week's pulse against hand-written SQL that computes the same figures.

    python bench/pulse_bench.py [--rows N] [--folder DIR] [--week 2026-W21]

It uses the workspace `import_bench.py --folder DIR --rows N` left in DIR
(default 1,000,000 rows), or builds one the same way. It times
`leadrelay.pulse.compute.pulse(contract, week, now)` in this process after
`django.setup()` (median of 5 runs after one warm-up; target at most 0.5 s),
and the same figures from raw sqlite3 queries written here (target: the
product at most 2x the SQL), and checks that both agree.

The figures: leads in by source this week, last week and over 8 weeks; the
first-outreach SLA (met, missed, open, unknown); the qualified cohort and
flow and the qualified events without a time; won; lost by reason;
objections by label; and the stalled leads by stage. The stalled examples the
pulse also lists are not timed on the SQL side. The SQL computes the SLA for
a calendar clock of whole hours started at the inquiry only, the kind the
default contract has: from the SLA clocks started in the week, and for the
arrivals without one (imported history) from the lead's contact time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    cpu_note,
    database_path,
    ensure_export,
    fresh_workspace,
    import_export,
    median,
    table_counts,
    verdict,
    workspace_folder,
)

PULSE_TARGET_S = 0.5
RATIO_TARGET = 2.0
RUNS = 5
STATE_KINDS = ("created", "stage", "won", "lost", "reopened")


def text(moment: datetime) -> str:
    """Return a moment as leadrelay stores it in SQLite: naive UTC text."""
    return str(moment.astimezone(UTC).replace(tzinfo=None))


def sql_figures(
    db: sqlite3.Connection, contract: Any, week: Any, now: datetime
) -> dict[str, Any]:
    """Compute the pulse's figures with plain SQL, as a person would write them."""
    tz = contract.tz
    weeks = [week.previous(i) for i in range(7, -1, -1)]
    bounds = [w.bounds(tz) for w in weeks]
    start, end = bounds[-1]
    s, e = text(start), text(end)
    as_of = min(now, end)

    # Leads in: one pass over the created events of the 8 weeks.
    buckets = " ".join(
        f"WHEN e.at < '{text(high)}' THEN {i}" for i, (_, high) in enumerate(bounds)
    )
    trend: dict[str | None, list[int]] = {}
    rows = db.execute(
        f"""
        SELECT CASE {buckets} END AS week, l.source, COUNT(*)
        FROM leadrelay_event e JOIN leadrelay_lead l ON l.id = e.lead_id
        WHERE e.kind = 'created' AND e.at >= ? AND e.at < ?
        GROUP BY week, l.source
        """,
        (text(bounds[0][0]), e),
    )
    for index, source, count in rows:
        trend.setdefault(source, [0] * 8)[index] = count
    totals = [sum(t[i] for t in trend.values()) for i in range(8)]
    by_source = {source: (t[7], t[6], t) for source, t in trend.items() if t[7] or t[6]}

    # The SLA and the qualified cohort: one pass over this week's arrivals.
    rule = contract.first_outreach_sla
    sla = None
    if rule is not None and rule.clock == "calendar" and rule.starts == "inquiry":
        hours = int(rule.within_hours)
        assert hours == rule.within_hours, "the SQL handles whole hours only"
        # Whole hours leave the fractional seconds alone, so the deadline
        # keeps the start's fraction text and compares as text.
        deadline = f"datetime(e.at, '+{hours} hours') || substr(e.at, 20)"
        # Clocks started in the week are judged from the clock; the other
        # arrivals (imported history has no clocks) from the lead's times.
        clock = {"key": rule.key, "s": s, "e": e, "now": text(now)}
        clocked = (
            "SELECT lead_id FROM leadrelay_clock "
            "WHERE sla = :key AND started_at >= :s AND started_at < :e"
        )
        row = db.execute(
            """
            SELECT
              SUM(met_at IS NOT NULL AND met_at <= due_at),
              SUM((met_at IS NOT NULL AND met_at > due_at)
                  OR (met_at IS NULL AND paused_at IS NULL AND due_at < :now)),
              SUM(met_at IS NULL AND NOT (paused_at IS NULL AND due_at < :now))
            FROM leadrelay_clock
            WHERE sla = :key AND started_at >= :s AND started_at < :e
            """,
            clock,
        ).fetchone()
        met, missed, still_open = (v or 0 for v in row)
        row = db.execute(
            f"""
            SELECT
              SUM(NOT c AND o IS NOT NULL AND o <= d),
              SUM(NOT c AND ((o IS NOT NULL AND o > d) OR (o IS NULL AND k AND d < :now))),
              SUM(NOT c AND o IS NULL AND k AND d >= :now),
              SUM(NOT c AND o IS NULL AND NOT k),
              SUM(q)
            FROM (
              SELECT l.first_outreach_at AS o, l.contact_time_known AS k,
                     {deadline} AS d,
                     e.lead_id IN ({clocked}) AS c,
                     EXISTS (SELECT 1 FROM leadrelay_event m
                             WHERE m.lead_id = e.lead_id
                               AND m.milestone = 'qualified') AS q
              FROM leadrelay_event e JOIN leadrelay_lead l ON l.id = e.lead_id
              WHERE e.kind = 'created' AND e.at >= :s AND e.at < :e
            )
            """,
            clock,
        ).fetchone()
        more_met, more_missed, more_open, unknown, qualified = (v or 0 for v in row)
        sla = {
            "met": met + more_met,
            "missed": missed + more_missed,
            "open": still_open + more_open,
            "unknown": unknown,
        }
    else:
        qualified = db.execute(
            """
            SELECT COUNT(*) FROM leadrelay_event e
            WHERE e.kind = 'created' AND e.at >= ? AND e.at < ?
              AND EXISTS (SELECT 1 FROM leadrelay_event m
                          WHERE m.lead_id = e.lead_id AND m.milestone = 'qualified')
            """,
            (s, e),
        ).fetchone()[0]

    # Milestones of the week, with the reason recorded with each loss.
    milestones: Counter[str] = Counter()
    reasons: Counter[str | None] = Counter()
    rows = db.execute(
        """
        SELECT e.milestone, reason, COUNT(*)
        FROM (
          SELECT e.milestone,
                 CASE WHEN e.milestone = 'lost'
                   THEN NULLIF(json_extract(e.data, '$.reason'), '') END AS reason
          FROM leadrelay_event e
          WHERE e.milestone IN ('qualified', 'won', 'lost') AND e.at >= ? AND e.at < ?
        ) AS e
        GROUP BY e.milestone, reason
        """,
        (s, e),
    )
    for milestone, reason, count in rows:
        milestones[milestone] += count
        if milestone == "lost":
            reasons[reason] += count
    untimed = db.execute(
        "SELECT COUNT(*) FROM leadrelay_event WHERE milestone = 'qualified' AND at IS NULL"
    ).fetchone()[0]
    objections = dict(
        db.execute(
            """
            SELECT json_extract(data, '$.label'), COUNT(*) FROM leadrelay_event
            WHERE kind = 'objection' AND at >= ? AND at < ?
            GROUP BY 1
            """,
            (s, e),
        ).fetchall()
    )

    # Stalled: leads idle past their stage's limit as of the week's end...
    limits = {
        stage.key: text(as_of - timedelta(days=stage.stall_after_days))
        for stage in contract.open_stages
        if stage.stall_after_days
    }
    stalled: Counter[str] = Counter()
    for key, before in limits.items():
        stalled[key] = db.execute(
            """
            SELECT COUNT(*) FROM leadrelay_lead
            WHERE stage = ? AND last_event_at < ? AND created_at < ?
            """,
            (key, before, text(as_of)),
        ).fetchone()[0]
    # ...and those with events after it, judged from their history before it.
    kinds = ", ".join(f"'{k}'" for k in STATE_KINDS)
    judged = " OR ".join(
        f"(stage = '{key}' AND last_at < '{before}')" for key, before in limits.items()
    )
    rows = db.execute(
        f"""
        WITH RECURSIVE stages (stage) AS (
          -- Every stage in use, one index probe each, so that the search
          -- below runs on the (stage, last_event_at, ...) index.
          SELECT MIN(stage) FROM leadrelay_lead
          UNION ALL
          SELECT (SELECT MIN(stage) FROM leadrelay_lead WHERE stage > s.stage)
          FROM stages AS s WHERE s.stage IS NOT NULL
        ),
        history AS (
          SELECT e.lead_id, e.kind, e.stage, e.at,
                 e.at || char(1) || printf('%020d', e.id) AS turn
          FROM leadrelay_lead l JOIN leadrelay_event e ON e.lead_id = l.id
          WHERE l.stage IN (SELECT stage FROM stages WHERE stage IS NOT NULL)
            AND l.created_at < :as_of AND l.last_event_at > :as_of AND e.at < :as_of
        ),
        firsts AS (SELECT lead_id, stage, MIN(turn) FROM history GROUP BY lead_id),
        changes AS (
          SELECT lead_id, stage, MAX(turn) FROM history
          WHERE kind IN ({kinds}) GROUP BY lead_id
        ),
        lasts AS (SELECT lead_id, MAX(at) AS last_at FROM history GROUP BY lead_id),
        states AS (
          SELECT COALESCE(c.stage, f.stage) AS stage, t.last_at
          FROM lasts t JOIN firsts f USING (lead_id)
          LEFT JOIN changes c USING (lead_id)
        )
        SELECT stage, COUNT(*) FROM states WHERE {judged or "0"} GROUP BY stage
        """,
        {"as_of": text(as_of)},
    )
    for stage, count in rows:
        stalled[stage] += count

    return {
        "leads in": {"total": totals[7], "previous": totals[6], "trend": totals},
        "leads in by source": by_source,
        "sla": sla,
        "cohort": {"count": qualified, "of": totals[7]},
        "qualified flow": milestones["qualified"],
        "qualified at no time": untimed,
        "won": milestones["won"],
        "lost": {"total": milestones["lost"], "by reason": dict(reasons)},
        "objections": objections,
        "stalled": {key: stalled[key] for key in limits},
        "stalled total": sum(stalled.values()),
    }


def product_figures(report: dict[str, Any]) -> dict[str, Any]:
    """Pick the same figures out of the product's pulse."""
    leads = report["leads_in"]
    sla = report["sla"]
    return {
        "leads in": {
            "total": leads["total"],
            "previous": leads["previous"],
            "trend": [w["count"] for w in leads["trend"]],
        },
        "leads in by source": {
            row["source"]: (row["count"], row["previous"], row["trend"])
            for row in leads["by_source"]
        },
        "sla": None
        if sla["key"] is None
        else {k: sla[k] for k in ("met", "missed", "open", "unknown")},
        "cohort": {
            "count": report["qualified"]["cohort"]["count"],
            "of": report["qualified"]["cohort"]["of"],
        },
        "qualified flow": report["qualified"]["flow"],
        "qualified at no time": report["qualified"]["reached_at_unknown_time"],
        "won": report["won"],
        "lost": {
            "total": report["lost"]["total"],
            "by reason": {r["reason"]: r["count"] for r in report["lost"]["by_reason"]},
        },
        "objections": {r["label"]: r["count"] for r in report["objections"]},
        "stalled": {r["stage"]: r["count"] for r in report["stalled"]["by_stage"]},
        "stalled total": report["stalled"]["total"],
    }


def timed(run: Any) -> tuple[float, list[float], float, Any]:
    """Run once to warm up, then RUNS times; return the median, the times, the median CPU."""
    result = run()
    times = []
    cpu = []
    for _ in range(RUNS):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return median(times), times, median(cpu), result


def ensure_workspace(root: Path, rows: int) -> Path:
    workspace = workspace_folder(root, rows)
    if database_path(workspace).is_file():
        print(f"reusing {workspace}")
        return workspace

    print(f"no workspace for {rows:,} rows in {root}; importing a sample export first")
    mql, deals, _ = ensure_export(root, rows)
    workspace = fresh_workspace(root, rows)
    measured = import_export(workspace, mql, deals)
    print(f"  imported in {measured.seconds:.1f} s")
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="size of the export (default 1000000)",
    )
    parser.add_argument(
        "--folder", type=Path, help="the folder import_bench.py --folder kept"
    )
    parser.add_argument(
        "--week", help="the ISO week (default: the last complete week of arrivals)"
    )
    args = parser.parse_args()

    root = args.folder or Path(tempfile.mkdtemp(prefix="leadrelay-bench-"))
    try:
        run(root, args.rows, args.week)
    finally:
        if args.folder is None:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, rows: int, week_text: str | None) -> None:
    print(f"pulse benchmark ({cpu_note()})")
    workspace = ensure_workspace(root, rows)
    os.environ["LEADRELAY_WORKSPACE"] = str(workspace)
    os.environ.pop("LEADRELAY_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadrelay.settings"
    import django

    django.setup()
    from django.utils import timezone

    from leadrelay.pulse.compute import latest_week_with_leads, pulse
    from leadrelay.pulse.week import Week
    from leadrelay.workspace import ensure_database, load_contract

    ensure_database()
    contract = load_contract()
    week = Week.parse(week_text) if week_text else latest_week_with_leads(contract)
    if week is None:
        print("the database holds no dated lead; nothing to measure")
        return

    counts = table_counts(database_path(workspace))
    print(
        f"database: {database_path(workspace)}: {counts['leads']:,} leads, {counts['events']:,} events"
    )
    now = timezone.now()
    print(f"week {week}, now {now:%Y-%m-%d %H:%M} UTC, contract {contract.name}")

    product_s, product_runs, product_cpu, report = timed(
        lambda: pulse(contract, week, now)
    )
    db = sqlite3.connect(f"file:{database_path(workspace)}?mode=ro", uri=True)
    sql_s, sql_runs, sql_cpu, figures = timed(
        lambda: sql_figures(db, contract, week, now)
    )
    db.close()

    def runs(times: list[float]) -> str:
        return ", ".join(f"{t:.3f}" for t in times)

    print(
        f"  product pulse: median {product_s:.3f} s of {RUNS} ({runs(product_runs)}), "
        f"CPU {product_cpu:.3f} s"
    )
    print(
        f"  hand-written SQL: median {sql_s:.3f} s of {RUNS} ({runs(sql_runs)}), "
        f"CPU {sql_cpu:.3f} s"
    )
    print(f"  product: {product_s:.3f} s, {verdict(product_s, PULSE_TARGET_S, ' s')}")
    ratio = product_s / sql_s if sql_s else float("inf")
    print(f"  product / SQL: {ratio:.2f}x, {verdict(ratio, RATIO_TARGET, 'x')}")
    print(f"  the same in CPU time: {product_cpu / sql_cpu:.2f}x")

    mine = product_figures(report)
    differences = [
        f"  {key}: product {mine[key]!r}, SQL {figures[key]!r}"
        for key in mine
        if mine[key] != figures[key]
    ]
    if differences:
        print("figures differ:")
        print("\n".join(differences))
    else:
        print("figures agree")
    shown = {k: v for k, v in mine.items() if k != "leads in by source"}
    for key, value in shown.items():
        print(f"    {key}: {value}")


if __name__ == "__main__":
    main()
