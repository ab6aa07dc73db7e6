"""Time the audit of the shared Olist export end to end, process start included.

    python bench/audit_bench.py [--runs 5]

It runs `leadrelay audit <the two Olist files> --preset olist` as a child
process `--runs` times (default 5) and prints the median wall time against the
target of 3 s, with each run's time and peak RSS. The export is read from
../shared/data/olist_marketing_funnel beside the repository; without it the
benchmark says so and skips.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    OLIST,
    cpu_note,
    leadrelay_command,
    median,
    require_success,
    run_measured,
    verdict,
)

TARGET_S = 3.0
FILES = (
    "olist_marketing_qualified_leads_dataset.csv",
    "olist_closed_deals_dataset.csv",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="how many runs (default 5)")
    args = parser.parse_args()

    files = [OLIST / name for name in FILES]
    missing = [f for f in files if not f.is_file()]
    if missing:
        print(
            f"skipped: the Olist export is not at {OLIST} ({missing[0].name} missing)"
        )
        return

    print(f"audit benchmark ({cpu_note()})")
    argv = [*leadrelay_command(), "audit", *map(str, files), "--preset", "olist"]
    print("command: " + " ".join(argv))
    times = []
    cpu = []
    for number in range(1, args.runs + 1):
        measured = run_measured(argv)
        require_success("leadrelay audit", measured)
        times.append(measured.seconds)
        cpu.append(measured.cpu_seconds)
        print(
            f"  run {number}: {measured.seconds:.2f} s (CPU {measured.cpu_seconds:.2f} s), "
            f"peak RSS {measured.peak_mb:.1f} MB"
        )

    middle = median(times)
    print(f"median of {args.runs}: {middle:.2f} s, {verdict(middle, TARGET_S, ' s')}")
    print(f"median CPU time: {median(cpu):.2f} s")


if __name__ == "__main__":
    main()
