from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from .support import audit, imported, write_csv

pytestmark = pytest.mark.django_db

COLUMNS = [
    "Deal - ID",
    "Deal - Title",
    "Deal - Value",
    "Deal - Currency",
    "Deal - Organization",
    "Deal - Contact person",
    "Deal - Pipeline",
    "Deal - Stage",
    "Deal - Status",
    "Deal - Owner",
    "Deal - Source channel",
    "Deal - Deal created",
    "Deal - Won time",
    "Deal - Lost time",
    "Deal - Deal closed on",
    "Deal - Lost reason",
    "Person - Name",
    "Person - Email",
    "Person - Phone",
    "Organization - Name",
]


def deal(
    deal_id: str,
    stage: str,
    status: str,
    created: str,
    *,
    won: str = "",
    lost: str = "",
    reason: str = "",
) -> list[str]:
    person = f"Person {deal_id}"
    organization = f"Organization {deal_id}"
    return [
        deal_id,
        f"{organization} deal",
        "1500",
        "EUR",
        organization,
        person,
        "Pipeline",
        stage,
        status,
        "Olga Owner",
        "Website",
        created,
        won,
        lost,
        won or lost,
        reason,
        person,
        f"person{deal_id}@example.com",
        "+372 555 0100",
        organization,
    ]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A deals export as Pipedrive names its columns, with each status."""
    return write_csv(
        tmp_path / "deals-export.csv",
        COLUMNS,
        [
            deal("1", "Lead In", "open", "2024-03-04 09:00:00"),
            deal("2", "Negotiations Started", "open", "2024-03-05 09:00:00"),
            deal(
                "3",
                "Proposal Made",
                "won",
                "2024-03-05 10:00:00",
                won="2024-03-20 10:00:00",
            ),
            deal(
                "4",
                "Contact Made",
                "lost",
                "2024-03-06 11:00:00",
                lost="2024-03-15 09:00:00",
                reason="Went with a competitor.",
            ),
            deal("5", "Needs Defined", "deleted", "2024-03-07 12:00:00"),
            deal("6", "Lead In", "open", "2024-03-12 13:00:00"),
        ],
    )


def test_every_deal_is_created_with_its_date(export: Path) -> None:
    report = audit(export, preset="pipedrive")

    assert report["import"]["created"] == 6
    assert report["import"]["rejected"] == 0
    assert report["compliance"]["created_date_known"]["count"] == 6
    assert report["pulse"]["week"] == "2024-W10"
    assert report["pulse"]["leads_in"]["total"] == 5


def test_the_status_decides_won_and_lost(export: Path) -> None:
    leads = imported(export, preset="pipedrive")

    won, lost = leads["3"], leads["4"]

    assert (won.stage, won.closed_at) == ("won", datetime(2024, 3, 20, 10, tzinfo=UTC))
    assert (lost.stage, lost.closed_at) == (
        "lost",
        datetime(2024, 3, 15, 9, tzinfo=UTC),
    )


def test_won_and_lost_times_date_the_outcome_without_a_closed_on_column(
    tmp_path: Path,
) -> None:
    closed_on = COLUMNS.index("Deal - Deal closed on")
    rows = [
        deal(
            "3",
            "Proposal Made",
            "won",
            "2024-03-05 10:00:00",
            won="2024-03-20 10:00:00",
        ),
        deal(
            "4",
            "Contact Made",
            "lost",
            "2024-03-06 11:00:00",
            lost="2024-03-15 09:00:00",
        ),
    ]
    header = COLUMNS[:closed_on] + COLUMNS[closed_on + 1 :]
    path = write_csv(
        tmp_path / "deals.csv",
        header,
        [row[:closed_on] + row[closed_on + 1 :] for row in rows],
    )

    leads = imported(path, preset="pipedrive")

    assert leads["3"].closed_at == datetime(2024, 3, 20, 10, tzinfo=UTC)
    assert leads["4"].closed_at == datetime(2024, 3, 15, 9, tzinfo=UTC)


def test_an_open_deal_stands_at_its_pipeline_stage(export: Path) -> None:
    leads = imported(export, preset="pipedrive")

    negotiating = leads["2"]

    assert negotiating.stage == "opportunity"


def test_a_won_or_lost_status_overrides_the_pipeline_stage(export: Path) -> None:
    leads = imported(export, preset="pipedrive")

    assert leads["4"].stage == "lost"


def test_a_deleted_deal_is_reported_as_an_unmapped_status(export: Path) -> None:
    report = audit(export, preset="pipedrive")

    assert report["import"]["unmapped"] == {"outcome": {"deleted": 1}}


def test_the_lost_reason_becomes_the_loss_note(export: Path) -> None:
    report = audit(export, preset="pipedrive")
    lost = imported(export, preset="pipedrive")["4"]

    assert lost.loss_note == "Went with a competitor."
    assert report["compliance"]["lost_with_note"] == {"count": 1, "of": 1}


def test_person_and_organization_columns_fill_the_lead(export: Path) -> None:
    first = imported(export, preset="pipedrive")["1"]

    assert first.name == "Person 1"
    assert first.email == "person1@example.com"
    assert first.phone == "+372 555 0100"
    assert first.company == "Organization 1"
    assert first.owner == "Olga Owner"
    assert first.source == "Website"
    assert first.created_at == datetime(2024, 3, 4, 9, tzinfo=UTC)
    assert first.extra["amount"] == "1500"
    assert first.extra["Deal - Currency"] == "EUR"


def test_a_deal_without_a_person_is_matched_on_its_deal_id(tmp_path: Path) -> None:
    row = deal("7", "Lead In", "open", "2024-03-04 09:00:00")
    row[COLUMNS.index("Person - Email")] = ""
    row[COLUMNS.index("Person - Phone")] = ""
    path = write_csv(tmp_path / "deals.csv", COLUMNS, [row])

    report = audit(path, preset="pipedrive")

    assert (report["import"]["created"], report["import"]["rejected"]) == (1, 0)
