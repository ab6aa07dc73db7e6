"""The pulse's chart data and its PNGs, against figures worked out by hand."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadrelay.contract import default_text, parse
from leadrelay.models import ContractVersion, Event, Lead
from leadrelay.pulse import charts
from leadrelay.pulse.compute import pulse
from leadrelay.pulse.week import Week
from leadrelay.workflow.bulk import contract_version

CONTRACT = parse(default_text())
W10 = Week.parse("2018-W10")
# Monday 10:00 of 2018-W10, in the default contract's UTC.
T0 = datetime(2018, 3, 5, 10, tzinfo=UTC)
LATER = datetime(2018, 6, 1, tzinfo=UTC)
WEEKS = [str(W10.previous(i)) for i in range(7, -1, -1)]


def leads_in(rows: list[dict[str, Any]], totals: list[int]) -> dict[str, Any]:
    """A pulse report's leads_in, as compute.leads_in shapes it."""
    return {
        "week": "2018-W10",
        "leads_in": {
            "total": totals[-1],
            "previous": totals[-2],
            "by_source": rows,
            "trend": [
                {"week": w, "count": n} for w, n in zip(WEEKS, totals, strict=True)
            ],
        },
        "sla": {"key": None},
    }


def source(name: str | None, trend: list[int]) -> dict[str, Any]:
    return {"source": name, "count": trend[-1], "previous": trend[-2], "trend": trend}


# -- leads in by source ------------------------------------------------------------


def test_the_trend_stacks_each_source_and_folds_the_rest_into_other_sources() -> None:
    # Week 1 had two leads from "event", a source neither this week nor last
    # week saw, so the table does not list it: the chart stacks them as other.
    report = leads_in(
        [
            source("web_form", [1, 0, 0, 0, 0, 0, 2, 3]),
            source(None, [0, 0, 0, 0, 0, 0, 1, 0]),
        ],
        [3, 0, 0, 0, 0, 0, 3, 3],
    )

    spec = charts.leads_trend(report)

    assert spec["kind"] == "stacked"
    assert spec["labels"] == ["W03", "W04", "W05", "W06", "W07", "W08", "W09", "W10"]
    assert spec["weeks"] == WEEKS
    assert [(s["name"], s["values"]) for s in spec["series"]] == [
        ("web_form", [1, 0, 0, 0, 0, 0, 2, 3]),
        ("(no source)", [0, 0, 0, 0, 0, 0, 1, 0]),
        ("other sources", [2, 0, 0, 0, 0, 0, 0, 0]),
    ]
    assert spec["value_labels"] == ["3", "0", "0", "0", "0", "0", "3", "3"]
    assert spec["empty"] is None
    assert spec["title"] == "Leads in by source, 2018-W03 to 2018-W10"


def test_a_source_seen_for_the_first_time_this_week_has_one_bar() -> None:
    report = leads_in(
        [
            source("partner", [0, 0, 0, 0, 0, 0, 0, 4]),
            source("email", [1, 1, 1, 1, 1, 1, 1, 1]),
        ],
        [1, 1, 1, 1, 1, 1, 1, 5],
    )

    spec = charts.leads_trend(report)

    assert [s["name"] for s in spec["series"]] == ["partner", "email"]
    assert spec["series"][0]["values"] == [0, 0, 0, 0, 0, 0, 0, 4]
    assert spec["value_labels"][-1] == "5"


def test_weeks_with_no_leads_give_a_sentence_instead_of_a_chart() -> None:
    spec = charts.leads_trend(leads_in([], [0] * 8))

    assert spec["series"] == []
    assert spec["empty"] == "No lead came in from 2018-W03 to 2018-W10."


def test_sources_past_the_palette_stack_as_other_sources() -> None:
    rows = [source(f"s{i}", [0] * 7 + [10 - i]) for i in range(8)]
    total = sum(10 - i for i in range(8))

    spec = charts.leads_trend(leads_in(rows, [0] * 7 + [total]))

    names = [s["name"] for s in spec["series"]]
    assert names == ["s0", "s1", "s2", "s3", "s4", "s5", "other sources"]
    # s6 and s7 brought 4 and 3.
    assert spec["series"][-1]["values"][-1] == 7
    assert len({s["color"] for s in spec["series"]}) == 7


# -- the SLA split -----------------------------------------------------------------


def sla_report(**figures: Any) -> dict[str, Any]:
    sla = {
        "key": "first_outreach",
        "label": "First outreach",
        "within_hours": 24.0,
        "clock": "calendar",
        "starts": "inquiry",
        "met": 0,
        "missed": 0,
        "open": 0,
        "unknown": 0,
        **figures,
    }
    sla["of"] = sla["met"] + sla["missed"] + sla["open"] + sla["unknown"]
    return {"week": "2018-W10", "sla": sla}


def test_the_sla_split_gives_each_outcome_with_its_share() -> None:
    spec = charts.sla_split(sla_report(met=3, missed=1, open=0, unknown=4))

    assert spec["labels"] == ["Met", "Missed", "Still open", "Unknown"]
    assert spec["series"][0]["values"] == [3, 1, 0, 4]
    assert spec["value_labels"] == ["3 (38%)", "1 (12%)", "0 (0%)", "4 (50%)"]
    assert spec["definition"] == (
        "First outreach: within 24 calendar hours of the inquiry, "
        "for the clocks started this week."
    )
    assert spec["alt"] == (
        "Of 8 contact clocks started in 2018-W10: met 3, missed 1, still open 0, "
        "unknown 4."
    )


def test_the_sla_split_says_why_it_is_empty() -> None:
    assert charts.sla_split(sla_report())["empty"] == (
        "No contact clock started this week."
    )
    no_rule = {"week": "2018-W10", "sla": {"key": None, "of": 0}}
    assert charts.sla_split(no_rule)["empty"] == (
        "The contract sets no first-contact SLA."
    )


# -- the cohort funnel ---------------------------------------------------------------


@pytest.fixture
def version(db: None) -> ContractVersion:
    return contract_version(CONTRACT)


def lead(
    version: ContractVersion,
    at: datetime,
    *steps: tuple[str, datetime],
    **fields: Any,
) -> Lead:
    """A lead that came in at `at` and then entered each (stage, when) in turn."""
    row = Lead.objects.create(
        stage="inquiry", created_at=at, last_event_at=at, **fields
    )
    Event.objects.create(
        lead=row,
        kind="created",
        stage="inquiry",
        at=at,
        actor="test",
        contract_version=version,
    )
    qualified = False
    for stage, when in steps:
        kind = stage if stage in ("won", "lost") else "stage"
        past = CONTRACT.rank(stage) >= CONTRACT.qualified_rank
        milestone = kind if kind != "stage" else ""
        if past and not qualified:
            qualified = True
            if kind == "stage":
                milestone = "qualified"
            else:
                Event.objects.create(
                    lead=row,
                    kind="stage",
                    stage=stage,
                    milestone="qualified",
                    at=when,
                    actor="test",
                    contract_version=version,
                )
        Event.objects.create(
            lead=row,
            kind=kind,
            stage=stage,
            milestone=milestone,
            at=when,
            actor="test",
            contract_version=version,
        )
        row.stage = stage
        row.last_event_at = when
    row.save()
    return row


def counts(funnel: dict[str, Any]) -> list[tuple[str, int]]:
    return [(s["stage"], s["count"]) for s in funnel["stages"]]


def test_the_funnel_counts_the_week_s_leads_at_each_stage_or_later(
    version: ContractVersion,
) -> None:
    day = timedelta(days=1)
    lead(version, T0)
    lead(version, T0, ("contacted", T0 + day))
    lead(
        version,
        T0,
        ("contacted", T0 + day),
        ("qualified", T0 + 2 * day),
        ("lost", LATER),
    )
    # Won straight from Inquiry: it passed every stage on the way.
    lead(version, T0 + 3 * day, ("won", T0 + 4 * day))
    # Came in the week before: not in the cohort, however far it got.
    lead(version, T0 - 3 * day, ("won", T0))

    funnel = charts.cohort_funnel(CONTRACT, W10)

    assert funnel["of"] == 4
    assert counts(funnel) == [
        ("inquiry", 4),
        ("contacted", 3),
        ("qualified", 2),
        ("opportunity", 1),
        ("won", 1),
    ]
    assert [s["share"] for s in funnel["stages"]] == [1.0, 0.75, 0.5, 0.25, 0.25]


def test_the_funnel_s_qualified_bar_is_the_pulse_s_cohort_figure(
    version: ContractVersion,
) -> None:
    day = timedelta(days=1)
    lead(version, T0, ("contacted", T0 + day), ("qualified", T0 + 2 * day))
    lead(version, T0, ("won", T0 + day))
    lead(version, T0, ("contacted", T0 + day))

    report = pulse(CONTRACT, W10, LATER)
    funnel = charts.cohort_funnel(CONTRACT, W10)

    qualified = dict(counts(funnel))["qualified"]
    assert qualified == report["qualified"]["cohort"]["count"] == 2
    assert funnel["of"] == report["leads_in"]["total"] == 3


def test_a_stage_no_lead_has_left_shows_as_zero_after_it(
    version: ContractVersion,
) -> None:
    # Both leads sit in Contacted: nothing has gone on from it yet.
    lead(version, T0, ("contacted", T0 + timedelta(hours=3)))
    lead(version, T0, ("contacted", T0 + timedelta(hours=5)))

    funnel = charts.cohort_funnel(CONTRACT, W10)
    spec = charts.funnel_chart(funnel)

    assert counts(funnel) == [
        ("inquiry", 2),
        ("contacted", 2),
        ("qualified", 0),
        ("opportunity", 0),
        ("won", 0),
    ]
    assert spec["value_labels"] == [
        "2 (100%)",
        "2 (100%)",
        "0 (0%)",
        "0 (0%)",
        "0 (0%)",
    ]
    assert spec["labels"] == ["Inquiry", "Contacted", "Qualified", "Opportunity", "Won"]


def test_a_week_with_no_leads_has_an_empty_funnel(version: ContractVersion) -> None:
    lead(version, T0 + timedelta(weeks=1), ("contacted", T0 + timedelta(weeks=2)))

    funnel = charts.cohort_funnel(CONTRACT, W10)
    spec = charts.funnel_chart(funnel)

    assert funnel["of"] == 0
    assert all(s["count"] == 0 and s["share"] is None for s in funnel["stages"])
    assert spec["empty"] == "No lead came in in 2018-W10."
    assert spec["value_labels"] == ["0"] * 5


def test_the_specs_come_from_the_pulse_with_the_funnel_last(
    version: ContractVersion,
) -> None:
    lead(version, T0, source="web_form")
    report = pulse(CONTRACT, W10, LATER)

    without = charts.chart_specs(report)
    report["cohort_funnel"] = charts.cohort_funnel(CONTRACT, W10)
    specs = charts.chart_specs(report)

    assert [s["id"] for s in without] == ["leads-trend", "sla-split"]
    assert [s["id"] for s in specs] == ["leads-trend", "sla-split", "cohort-funnel"]
    assert specs[0]["series"][0]["values"] == [0, 0, 0, 0, 0, 0, 0, 1]
    # Contacted never: the clock of a lead from March has long run out.
    assert specs[1]["series"][0]["values"] == [0, 1, 0, 0]


# -- PNG ---------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_is_whole(data: bytes) -> bool:
    """Check every chunk's CRC and that the image data inflates."""
    at, pixels = 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return False
        if kind == b"IDAT":
            pixels += body
        at += 12 + length
    return kind == b"IEND" and len(zlib.decompress(pixels)) > 0


SPECS = {
    "stacked": charts.leads_trend(
        leads_in(
            [source("web_form", [1, 2, 0, 3, 1, 0, 2, 3])], [1, 2, 0, 3, 1, 0, 2, 3]
        )
    ),
    "hbar": charts.sla_split(sla_report(met=3, missed=1, open=2)),
    "empty": charts.sla_split(sla_report()),
}


@pytest.mark.parametrize("name", SPECS)
def test_each_chart_draws_as_a_whole_png(name: str) -> None:
    data = charts.png(SPECS[name])

    assert png_size(data) == (900, 450)
    assert png_is_whole(data)


def test_a_png_carries_no_software_stamp() -> None:
    assert b"matplotlib" not in charts.png(SPECS["hbar"])
