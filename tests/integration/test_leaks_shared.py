"""The leak report on the public exports, checked against the raw CSVs.

The expected figures are computed here from the export's rows with the
standard library alone, Wilson interval included, never with leadrelay's
code. What the presets say the exports mean:

- Maven: every deal came in (Prospecting stands at Inquiry). `engage_date`
  is when it entered Opportunity, so an Engaging, Won or Lost deal with an
  engage date reached Opportunity, and so, by the funnel's order, Contacted
  and Qualified too. Won reached Won; Lost is no stage past any other. The
  segment is the account's `sector` in accounts.csv.
- Olist: every marketing-qualified lead came in, with the source `origin`
  (an empty one is no source); a row in the closed deals file is a lead that
  signed, which reached Won and so every stage before it.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from conftest import shared_file
from leadrelay.contract import default_text

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MAVEN = "maven_crm_sales_opportunities"
OLIST = "olist_marketing_funnel"

#: The default contract's open funnel, in order, ending in Won.
FUNNEL = ("inquiry", "contacted", "qualified", "opportunity", "won")
MAVEN_STAGE = {
    "Prospecting": "inquiry",
    "Engaging": "opportunity",
    "Won": "won",
    "Lost": "lost",
}


def interval(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval at 95%, written out from its textbook form."""
    z = 1.96
    p = k / n
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (
        (p + z**2 / (2 * n) - spread) / (1 + z**2 / n),
        (p + z**2 / (2 * n) + spread) / (1 + z**2 / n),
    )


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def workspace(tmp_path: Path, settings: Any) -> Path:
    contract = tmp_path / "funnel.toml"
    contract.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = contract
    return tmp_path


def imported(workspace: Path, preset: str, *files: Path) -> None:
    call_command(
        "import",
        *[str(f) for f in files],
        "--preset",
        preset,
        "--rejects",
        str(workspace / "rejects.csv"),
        stdout=StringIO(),
    )


def leaks_json(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("leaks", *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def expected_steps(reached: list[int]) -> list[tuple[int, int]]:
    """Return (n, converted) for each consecutive pair of the funnel."""
    return [
        (sum(r >= i for r in reached), sum(r >= i + 1 for r in reached))
        for i in range(len(FUNNEL) - 1)
    ]


def assert_figures(section: dict[str, Any], steps: list[tuple[int, int]]) -> None:
    for row, (n, k) in zip(section["conversion"], steps, strict=True):
        assert (row["n"], row["converted"]) == (n, k), row["from"]
        if n:
            low, high = interval(k, n)
            assert row["rate"] == pytest.approx(k / n, abs=1e-4)
            assert row["low"] == pytest.approx(low, abs=1e-4)
            assert row["high"] == pytest.approx(high, abs=1e-4)
        else:
            assert row["rate"] is None


def maven_reached() -> dict[str | None, list[int]]:
    """Return, by sector (None: no account), each deal's furthest funnel step."""
    sectors = {
        row["account"]: row["sector"]
        for row in read(shared_file(MAVEN, "accounts.csv"))
    }
    by_sector: dict[str | None, list[int]] = defaultdict(list)
    for row in read(shared_file(MAVEN, "sales_pipeline.csv")):
        stage = MAVEN_STAGE[row["deal_stage"]]
        furthest = FUNNEL.index(stage) if stage in FUNNEL else 0
        if row["engage_date"]:
            furthest = max(furthest, FUNNEL.index("opportunity"))
        by_sector[sectors.get(row["account"]) or None].append(furthest)
    return by_sector


def test_maven_conversion_by_sector_matches_the_raw_export(workspace: Path) -> None:
    imported(
        workspace,
        "maven",
        shared_file(MAVEN, "sales_pipeline.csv"),
        shared_file(MAVEN, "accounts.csv"),
    )
    expected = maven_reached()
    everyone = [r for deals in expected.values() for r in deals]

    result = leaks_json("--by", "segment")

    assert result["leads"] == len(everyone) == 8800
    assert_figures(result["overall"], expected_steps(everyone))
    groups = {g["value"]: g for g in result["breakdown"]}
    assert set(groups) == set(expected)
    for sector, deals in expected.items():
        assert groups[sector]["leads"] == len(deals)
        assert_figures(groups[sector], expected_steps(deals))

    # The leak: the sector and transition losing most against the overall rate,
    # among rows with 30 leads or more and an interval no wider than 30 points.
    overall = expected_steps(everyone)
    candidates = []
    for sector, deals in expected.items():
        for i, (n, k) in enumerate(expected_steps(deals)):
            low, high = interval(k, n) if n else (0.0, 1.0)
            if n < 30 or high - low > 0.3:
                continue
            excess = n * (overall[i][1] / overall[i][0] - k / n)
            candidates.append((excess, sector, i, n, k, low, high))
    excess, sector, i, n, k, low, high = max(candidates)
    leak = result["biggest_leak"]
    assert (leak["from"], leak["to"]) == (FUNNEL[i], FUNNEL[i + 1])
    assert leak["value"] == sector
    assert (leak["n"], leak["converted"]) == (n, k)
    assert leak["excess_lost"] == pytest.approx(excess, abs=1e-3)
    assert leak["low"] == pytest.approx(low, abs=1e-4)
    assert leak["high"] == pytest.approx(high, abs=1e-4)
    percent = math.floor(100 * k / n + 0.5)
    ends = (math.floor(100 * low + 0.5), math.floor(100 * high + 0.5))
    if ends[0] == ends[1]:
        # Shown to a tenth of a point when whole points would read "0–0%".
        ci = f"95% CI {100 * low:.1f}–{100 * high:.1f}%"
    else:
        ci = f"95% CI {ends[0]}–{ends[1]}%"
    assert f"{percent}% convert" in leak["sentence"]
    assert f"(n={n:,}, {ci})" in leak["sentence"]
    assert f"about {round(excess):,} more leads lost" in leak["sentence"]


def test_maven_without_a_breakdown_names_the_step_most_deals_stop_at(
    workspace: Path,
) -> None:
    imported(
        workspace,
        "maven",
        shared_file(MAVEN, "sales_pipeline.csv"),
        shared_file(MAVEN, "accounts.csv"),
    )
    everyone = [r for deals in maven_reached().values() for r in deals]
    steps = expected_steps(everyone)
    worst = max(range(len(steps)), key=lambda i: steps[i][0] - steps[i][1])

    leak = leaks_json()["biggest_leak"]

    assert (leak["from"], leak["to"]) == (FUNNEL[worst], FUNNEL[worst + 1])
    n, k = steps[worst]
    assert f"{n - k:,} of the {n:,} leads" in leak["sentence"]


def test_olist_conversion_by_source_matches_the_raw_export(workspace: Path) -> None:
    leads_file = shared_file(OLIST, "olist_marketing_qualified_leads_dataset.csv")
    deals_file = shared_file(OLIST, "olist_closed_deals_dataset.csv")
    imported(workspace, "olist", leads_file, deals_file)
    signed = {row["mql_id"] for row in read(deals_file)}
    by_source: dict[str | None, list[int]] = defaultdict(list)
    for row in read(leads_file):
        furthest = len(FUNNEL) - 1 if row["mql_id"] in signed else 0
        by_source[row["origin"] or None].append(furthest)
    everyone = [r for leads in by_source.values() for r in leads]

    result = leaks_json("--by", "source")

    assert_figures(result["overall"], expected_steps(everyone))
    whole = result["overall"]["end_to_end"]
    assert (
        (whole["n"], whole["converted"]) == (len(everyone), len(signed)) == (8000, 842)
    )
    groups = {g["value"]: g for g in result["breakdown"]}
    assert set(groups) == set(by_source)
    for source, leads in by_source.items():
        n, k = len(leads), sum(r == len(FUNNEL) - 1 for r in leads)
        end_to_end = groups[source]["end_to_end"]
        assert (end_to_end["n"], end_to_end["converted"]) == (n, k), source
        low, high = interval(k, n)
        assert end_to_end["low"] == pytest.approx(low, abs=1e-4)
        assert end_to_end["high"] == pytest.approx(high, abs=1e-4)
        assert_figures(groups[source], expected_steps(leads))
    assert groups[None]["label"] == "(no source)"
