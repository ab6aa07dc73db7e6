"""The audit of the public CRM exports, checked against counts taken from the raw CSV.

Every expected figure here is computed from the export's own rows with the
standard library alone (csv, datetime), never with leadrelay's code, so a
mistake in the importer or the pulse cannot hide behind the same mistake in
the test. What each export means, as its preset maps it:

- Olist: a lead comes in on `first_contact_date` with the source `origin`;
  a row in the closed deals file is a lead that signed on `won_date`, so it
  has passed Qualified. Nothing is ever lost.
- Maven: a deal comes in on `engage_date` (Prospecting deals have none, so
  they are in no week); Engaging is an Opportunity, which is past Qualified;
  Won and Lost close on `close_date`. The preset dates entering Opportunity
  with `engage_date`, so a Lost deal with an `engage_date` was engaged before
  it was lost, and counts as having reached Qualified. The export records no
  source, so every lead is in the missing-source bucket.
- Zoho: a lead comes in on its `Created Time` with its `Lead Source`; a lead
  that was converted has a Potential, and conversion is where Zoho qualifies
  it. The Potential's `Stage` then says where it stands and its `Closing
  Date` when it closed. A lead without a Potential stands at its `Lead
  Status`.

None of them records when a lead was first contacted, so every SLA figure is
unknown. The contract is the default one: time zone UTC, ISO weeks from
Monday 00:00 to the next Monday 00:00.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from conftest import shared_file
from leadrelay.contract import default_text
from leadrelay.models import Event, Lead

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

OLIST = "olist_marketing_funnel"
MAVEN = "maven_crm_sales_opportunities"
ZOHO = "zoho_crm_sample"

# Zoho's values, read off the meaning of each status and stage.
ZOHO_WON = {"Closed Won"}
ZOHO_LOST = {
    "Not Qualified",
    "Junk Lead",
    "Lost Lead",
    "Closed Lost",
    "Closed Lost to Competition",
}
ZOHO_QUALIFIED_OR_LATER = {
    "Pre Qualified",
    "Prospect",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Initial Offer",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
}


@dataclass(frozen=True)
class Expected:
    """One lead as the raw export describes it."""

    key: str
    created: datetime | None
    source: str | None
    qualified: bool
    won_at: datetime | None = None
    lost_at: datetime | None = None
    lost: bool = False
    industry: bool = False
    company_size: bool = False
    location: bool = False
    # The dates of the lead's later steps, to find history that runs backwards.
    later: tuple[datetime, ...] = ()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def iso(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def zoho_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None

    return datetime.strptime(text, "%d %b, %Y %H:%M:%S").replace(tzinfo=UTC)


@cache
def olist_leads() -> tuple[Expected, ...]:
    leads = read_rows(shared_file(OLIST, "olist_marketing_qualified_leads_dataset.csv"))
    deals = {
        row["mql_id"]: row
        for row in read_rows(shared_file(OLIST, "olist_closed_deals_dataset.csv"))
    }
    out = []
    for row in leads:
        deal = deals.get(row["mql_id"])
        won_at = iso(deal["won_date"]) if deal else None
        out.append(
            Expected(
                key=row["mql_id"],
                created=iso(row["first_contact_date"]),
                source=row["origin"].strip() or None,
                qualified=deal is not None,
                won_at=won_at,
                industry=bool(deal and deal["business_segment"].strip()),
                later=(won_at,) if won_at else (),
            )
        )

    return tuple(out)


@cache
def maven_leads() -> tuple[Expected, ...]:
    pipeline = read_rows(shared_file(MAVEN, "sales_pipeline.csv"))
    accounts = {
        row["account"].strip(): row
        for row in read_rows(shared_file(MAVEN, "accounts.csv"))
    }
    out = []
    for row in pipeline:
        stage = row["deal_stage"].strip()
        engaged = iso(row["engage_date"])
        closed = iso(row["close_date"])
        account = accounts.get(row["account"].strip())
        out.append(
            Expected(
                key=row["opportunity_id"],
                created=engaged,
                source=None,
                qualified=stage in ("Engaging", "Won")
                or (stage == "Lost" and engaged is not None),
                won_at=closed if stage == "Won" else None,
                lost_at=closed if stage == "Lost" else None,
                lost=stage == "Lost",
                industry=bool(account and account["sector"].strip()),
                company_size=bool(account and account["employees"].strip()),
                location=bool(account and account["office_location"].strip()),
                later=(closed,) if closed and stage in ("Won", "Lost") else (),
            )
        )

    return tuple(out)


@cache
def zoho_leads() -> tuple[Expected, ...]:
    leads = read_rows(shared_file(ZOHO, "Leads.csv"))
    potentials = {
        row["LEADID"].strip(): row
        for row in read_rows(shared_file(ZOHO, "Potentials.csv"))
    }
    out = []
    for row in leads:
        potential = potentials.get(row["LEADID"].strip())
        stage = row["Lead Status"].strip()
        closing = converted = None
        if potential is not None:
            stage = potential["Stage"].strip() or stage
            closing = zoho_time(potential["Closing Date"])
            converted = zoho_time(potential["Created Time"])
        closed = stage in ZOHO_WON | ZOHO_LOST
        later = tuple(
            t for t in (converted, closing if closed else None) if t is not None
        )
        out.append(
            Expected(
                key=row["LEADID"],
                created=zoho_time(row["Created Time"]),
                source=row["Lead Source"].strip() or None,
                qualified=potential is not None or stage in ZOHO_QUALIFIED_OR_LATER,
                won_at=closing if stage in ZOHO_WON else None,
                lost_at=closing if stage in ZOHO_LOST else None,
                lost=stage in ZOHO_LOST,
                industry=bool(row["Industry"].strip()),
                later=later,
            )
        )

    return tuple(out)


@dataclass(frozen=True)
class Export:
    preset: str
    files: tuple[tuple[str, str], ...]
    leads: Callable[[], tuple[Expected, ...]]
    #: Weeks asked for explicitly, besides the default one.
    weeks: tuple[str, ...]


EXPORTS = {
    "olist": Export(
        "olist",
        (
            (OLIST, "olist_marketing_qualified_leads_dataset.csv"),
            (OLIST, "olist_closed_deals_dataset.csv"),
        ),
        olist_leads,
        ("2018-W10",),
    ),
    "maven": Export(
        "maven",
        ((MAVEN, "sales_pipeline.csv"), (MAVEN, "accounts.csv")),
        maven_leads,
        ("2017-W26",),
    ),
    "zoho": Export(
        "zoho",
        ((ZOHO, "Leads.csv"), (ZOHO, "Potentials.csv")),
        zoho_leads,
        ("2020-W40",),
    ),
}

WEEKS = [
    pytest.param(name, week, id=f"{name}-{week or 'default'}")
    for name, export in EXPORTS.items()
    for week in (None, *export.weeks)
]
NAMES = list(EXPORTS)

_AUDITS: dict[tuple[str, str | None], dict[str, Any]] = {}
# What each of those runs left in the database: leads and events.
_LEFT_BEHIND: dict[tuple[str, str | None], tuple[int, int]] = {}


def audit(name: str, week: str | None = None) -> dict[str, Any]:
    """Run the audit once per export and week; it rolls back all it writes."""
    key = (name, week)
    if key not in _AUDITS:
        export = EXPORTS[name]
        paths = [str(shared_file(*parts)) for parts in export.files]
        extra = ["--week", week] if week else []
        out = StringIO()
        call_command(
            "audit",
            *paths,
            "--preset",
            export.preset,
            "--format",
            "json",
            *extra,
            stdout=out,
        )
        _AUDITS[key] = json.loads(out.getvalue())
        _LEFT_BEHIND[key] = (Lead.objects.count(), Event.objects.count())

    return _AUDITS[key]


# -- weeks, as the test counts them ------------------------------------------


def week_label(day: date) -> str:
    iso_day = day.isocalendar()
    return f"{iso_day.year}-W{iso_day.week:02d}"


def week_start(label: str) -> datetime:
    year, number = label.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return datetime.combine(monday, time(0), UTC)


def in_week(moment: datetime | None, label: str) -> bool:
    start = week_start(label)
    return moment is not None and start <= moment < start + timedelta(days=7)


def weeks_ending(label: str, count: int = 8) -> list[str]:
    monday = week_start(label).date()
    return [week_label(monday - timedelta(weeks=i)) for i in range(count - 1, -1, -1)]


def default_week(leads: tuple[Expected, ...]) -> str:
    """The last complete week of arrivals: the latest arrival's, if it is a Sunday."""
    latest = max(lead.created for lead in leads if lead.created is not None).date()
    if latest.isoweekday() == 7:
        return week_label(latest)

    return week_label(latest - timedelta(weeks=1))


def resolve(name: str, week: str | None) -> str:
    return week or default_week(EXPORTS[name].leads())


def arrivals(leads: tuple[Expected, ...], label: str) -> list[Expected]:
    return [lead for lead in leads if in_week(lead.created, label)]


def by_source(leads: tuple[Expected, ...], label: str) -> Counter[str | None]:
    return Counter(lead.source for lead in arrivals(leads, label))


# -- the pulse ----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_default_week_is_the_last_complete_week_of_arrivals(name: str) -> None:
    expected = default_week(EXPORTS[name].leads())

    report = audit(name)

    assert report["pulse"]["week"] == expected
    assert report["pulse"]["starts"] == week_start(expected).isoformat()
    assert (
        report["pulse"]["ends"]
        == (week_start(expected) + timedelta(days=7)).isoformat()
    )


@pytest.mark.parametrize(("name", "week"), WEEKS)
def test_leads_in_match_the_raw_rows_in_total_and_by_source(
    name: str, week: str | None
) -> None:
    label = resolve(name, week)
    leads = EXPORTS[name].leads()
    this = by_source(leads, label)
    previous = by_source(leads, weeks_ending(label)[-2])

    figures = audit(name, week)["pulse"]["leads_in"]

    assert figures["total"] == sum(this.values())
    assert {row["source"]: row["count"] for row in figures["by_source"]} == {
        source: this[source] for source in set(this) | set(previous)
    }


@pytest.mark.parametrize(("name", "week"), WEEKS)
def test_last_week_and_the_eight_week_trend_match_the_raw_rows(
    name: str, week: str | None
) -> None:
    label = resolve(name, week)
    leads = EXPORTS[name].leads()
    weeks = weeks_ending(label)
    counts = [by_source(leads, w) for w in weeks]
    sources = set(counts[-1]) | set(counts[-2])

    figures = audit(name, week)["pulse"]["leads_in"]

    assert figures["previous"] == sum(counts[-2].values())
    assert figures["trend"] == [
        {"week": w, "count": sum(c.values())}
        for w, c in zip(weeks, counts, strict=True)
    ]
    assert {row["source"]: row["previous"] for row in figures["by_source"]} == {
        source: counts[-2][source] for source in sources
    }
    assert {row["source"]: row["trend"] for row in figures["by_source"]} == {
        source: [c[source] for c in counts] for source in sources
    }


@pytest.mark.parametrize(("name", "week"), WEEKS)
def test_won_and_lost_in_the_week_match_the_close_dates(
    name: str, week: str | None
) -> None:
    label = resolve(name, week)
    leads = EXPORTS[name].leads()
    won = sum(1 for lead in leads if in_week(lead.won_at, label))
    lost = sum(1 for lead in leads if in_week(lead.lost_at, label))

    pulse = audit(name, week)["pulse"]

    assert pulse["won"] == won
    assert pulse["lost"]["total"] == lost
    # No export records why a deal was lost.
    assert pulse["lost"]["by_reason"] == (
        [{"reason": None, "label": "no reason recorded", "count": lost}] if lost else []
    )


@pytest.mark.parametrize(("name", "week"), WEEKS)
def test_the_qualified_cohort_counts_the_week_arrivals_that_reached_qualified(
    name: str, week: str | None
) -> None:
    label = resolve(name, week)
    arrived = arrivals(EXPORTS[name].leads(), label)
    qualified = sum(1 for lead in arrived if lead.qualified)

    cohort = audit(name, week)["pulse"]["qualified"]["cohort"]

    assert (cohort["count"], cohort["of"]) == (qualified, len(arrived))
    assert cohort["rate"] == (round(qualified / len(arrived), 4) if arrived else None)


@pytest.mark.parametrize(("name", "week"), WEEKS)
def test_every_first_contact_sla_figure_is_unknown(name: str, week: str | None) -> None:
    arrived = len(arrivals(EXPORTS[name].leads(), resolve(name, week)))

    sla = audit(name, week)["pulse"]["sla"]

    assert {k: sla[k] for k in ("met", "missed", "open", "unknown", "of")} == {
        "met": 0,
        "missed": 0,
        "open": 0,
        "unknown": arrived,
        "of": arrived,
    }


def test_a_missing_olist_origin_is_its_own_bucket_apart_from_the_literal_unknown() -> (
    None
):
    leads = olist_leads()
    label = "2018-W10"
    this = by_source(leads, label)
    assert this[None] > 0 and this["unknown"] > 0, "the week no longer shows both"

    rows = {
        row["source"]: row
        for row in audit("olist", label)["pulse"]["leads_in"]["by_source"]
    }

    assert rows[None]["count"] == this[None]
    assert rows["unknown"]["count"] == this["unknown"]


# -- the compliance report and the import summary -----------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_compliance_figures_match_the_raw_rows(name: str) -> None:
    leads = EXPORTS[name].leads()
    total = len(leads)
    lost = sum(1 for lead in leads if lead.lost)

    report = audit(name)["compliance"]

    assert report["leads"] == total
    assert report["source"] == {
        "count": sum(1 for lead in leads if lead.source is not None),
        "of": total,
    }
    assert report["industry"] == {
        "count": sum(lead.industry for lead in leads),
        "of": total,
    }
    assert report["company_size"] == {
        "count": sum(lead.company_size for lead in leads),
        "of": total,
    }
    assert report["location"] == {
        "count": sum(lead.location for lead in leads),
        "of": total,
    }
    assert report["intent"] == {"count": 0, "of": total}
    assert report["next_action"] == {"count": 0, "of": total}
    assert report["checklist_complete"] == {"count": 0, "of": total}
    assert report["lost_with_reason"] == {"count": 0, "of": lost}
    assert report["created_date_known"] == {
        "count": sum(1 for lead in leads if lead.created is not None),
        "of": total,
    }
    assert report["contact_time_known"] == {"count": 0, "of": total}


@pytest.mark.parametrize("name", NAMES)
def test_sources_on_the_contract_list_are_counted_by_their_raw_value(name: str) -> None:
    allowed = set(tomllib.loads(default_text())["sources"]["allowed"])
    leads = EXPORTS[name].leads()

    report = audit(name)["compliance"]

    assert report["source_in_contract"] == {
        "count": sum(1 for lead in leads if lead.source in allowed),
        "of": len(leads),
    }


@pytest.mark.parametrize("name", NAMES)
def test_the_import_reads_creates_and_rejects_as_many_rows_as_the_file_has(
    name: str,
) -> None:
    primary = shared_file(*EXPORTS[name].files[0])
    with primary.open(encoding="utf-8-sig", newline="") as handle:
        rows = (
            sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row))
            - 1
        )
    distinct = len({lead.key for lead in EXPORTS[name].leads()})

    summary = audit(name)["import"]

    assert summary["read"] == rows
    assert summary["created"] == distinct == rows
    assert summary["rejected"] == 0
    assert summary["updated"] == summary["unchanged"] == summary["footer_rows"] == 0
    assert summary["unmapped"] == {}
    assert summary["rejects_file"] is None
    assert summary["contact_times_in_export"] is False


# -- data-quality warnings ------------------------------------------------------


def warning(report: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((w for w in report["warnings"] if w["code"] == code), None)


@pytest.mark.parametrize("name", NAMES)
def test_history_that_runs_backwards_is_counted_with_examples(name: str) -> None:
    backwards = [
        lead.key
        for lead in EXPORTS[name].leads()
        if lead.created is not None and any(t < lead.created for t in lead.later)
    ]

    found = warning(audit(name), "event_before_created")

    if not backwards:
        assert found is None
        return
    assert found is not None
    assert found["count"] == len(backwards)
    assert found["examples"] and set(found["examples"]) <= set(backwards)


@pytest.mark.parametrize("name", NAMES)
def test_leads_without_an_arrival_date_are_counted_in_a_warning(name: str) -> None:
    undated = sum(1 for lead in EXPORTS[name].leads() if lead.created is None)

    found = warning(audit(name), "no_created_date")

    assert (found["count"] if found else 0) == undated


def test_the_audit_leaves_nothing_in_the_database() -> None:
    assert (Lead.objects.count(), Event.objects.count()) == (0, 0)

    audit("olist", "2018-W10")

    assert _LEFT_BEHIND
    assert set(_LEFT_BEHIND.values()) == {(0, 0)}
