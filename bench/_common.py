"""What the benchmarks share: where things are, measured children, verdicts.

Each measured command runs as a direct child and is reaped with `os.wait4`,
so its time and peak memory are its own, not the benchmark's and not those
of other children.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
OLIST = SHARED_DATA / "olist_marketing_funnel"

#: The sample export's file names, as `leadrelay.sample` writes them.
MQL_NAME = "sample_marketing_qualified_leads.csv"
DEALS_NAME = "sample_closed_deals.csv"
SEED = 7


def leadrelay_command() -> list[str]:
    """Return how to start the `leadrelay` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "leadrelay"
    if script.is_file():
        return [str(script)]

    found = shutil.which("leadrelay")
    if found:
        return [found]

    sys.exit("bench: no leadrelay command; run the benchmark with .venv/bin/python")


@dataclass
class Measured:
    seconds: float
    #: User plus system CPU time: steadier than `seconds` on a busy machine.
    cpu_seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run `argv` to its end; return its wall time and its own peak RSS."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"leadrelay-bench-{os.getpid()}"
    with (
        open(f"{out_path}.out", "w+b") as out,
        open(f"{out_path}.err", "w+b") as err,
    ):
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        # Reaped by hand: tell Popen, so that it does not wait again.
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")

    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)

    cpu = usage.ru_utime + usage.ru_stime
    # Linux gives ru_maxrss in kilobytes.
    return Measured(
        seconds, cpu, usage.ru_maxrss / 1024, child.returncode, stdout, stderr
    )


def require_success(what: str, measured: Measured) -> None:
    if measured.returncode != 0:
        sys.stderr.write(measured.stderr[-4000:])
        sys.exit(f"bench: {what} failed with exit code {measured.returncode}")


def workspace_env(workspace: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LEADRELAY_WORKSPACE"] = str(workspace)
    env.pop("LEADRELAY_DATABASE_URL", None)
    return env


def export_folder(root: Path, rows: int) -> Path:
    return root / f"rows-{rows}" / "export"


def workspace_folder(root: Path, rows: int) -> Path:
    return root / f"rows-{rows}" / "workspace"


def ensure_export(root: Path, rows: int) -> tuple[Path, Path, float | None]:
    """Write the sample export for `rows` under `root`, unless it is there already.

    Returns the two files and the seconds the writing took (None if reused).
    """
    folder = export_folder(root, rows)
    marker = folder / "made.json"
    wanted = {"rows": rows, "seed": SEED}
    mql, deals = folder / MQL_NAME, folder / DEALS_NAME
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        if mql.is_file() and deals.is_file():
            return mql, deals, None

    # Imported here so that the measured children never load it.
    from leadrelay.sample import write_olist_like

    started = time.perf_counter()
    mql, deals = write_olist_like(folder, rows=rows, seed=SEED)
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps(wanted))
    return mql, deals, seconds


def fresh_workspace(root: Path, rows: int) -> Path:
    """Remove any earlier workspace for `rows` and run `leadrelay init` in its place."""
    workspace = workspace_folder(root, rows)
    if workspace.exists():
        shutil.rmtree(workspace)
    done = subprocess.run(
        [*leadrelay_command(), "init", str(workspace)],
        env=workspace_env(workspace),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(f"bench: leadrelay init {workspace} failed")

    return workspace


def import_export(workspace: Path, mql: Path, deals: Path) -> Measured:
    """Run `leadrelay import` of both files into `workspace`, measured."""
    argv = [
        *leadrelay_command(),
        "import",
        str(mql),
        str(deals),
        "--preset",
        "olist",
        "--format",
        "json",
    ]
    measured = run_measured(argv, workspace_env(workspace))
    require_success("leadrelay import", measured)
    return measured


def database_path(workspace: Path) -> Path:
    return workspace / "leadrelay.sqlite3"


def table_counts(database: Path) -> dict[str, int]:
    """Return the leads, the events and the events of each kind in a workspace's database."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        counts = {
            "leads": db.execute("SELECT COUNT(*) FROM leadrelay_lead").fetchone()[0],
            "events": db.execute("SELECT COUNT(*) FROM leadrelay_event").fetchone()[0],
        }
        kinds = db.execute(
            "SELECT kind, COUNT(*) FROM leadrelay_event GROUP BY kind ORDER BY kind"
        )
        for kind, count in kinds:
            counts[f"events {kind}"] = count
    return counts


def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(value: float, target: float, unit: str = "") -> str:
    """Say whether `value` is within `target` (an upper bound), and by how much not."""
    if value <= target:
        return f"met (target <= {target:g}{unit})"

    return f"MISSED by {value / target:.2f}x (target <= {target:g}{unit})"


def cpu_note() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, load average {load:.2f} at start"
