from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from .support import audit, codes, imported, warning, write_csv

pytestmark = pytest.mark.django_db

CONTACT_COLUMNS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Job Title",
    "Contact owner",
    "Lifecycle Stage",
    "Lead Status",
    "Original Source",
    "Original Source Drill-Down 1",
    "Original Source Drill-Down 2",
    "Create Date",
    "Industry",
    "Number of Employees",
    "Country/Region",
    "Became a Sales Qualified Lead Date",
    "Became an Opportunity Date",
    "Became a Customer Date",
]
DEAL_COLUMNS = [
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Pipeline",
    "Close Date",
    "Amount",
    "Closed Lost Reason",
    "Create Date",
    "Deal owner",
    "Associated Contact IDs",
]


def contact(
    record_id: str,
    name: str,
    stage: str,
    source: str,
    created: str,
    *,
    lead_status: str = "",
    dates: tuple[str, str, str] = ("", "", ""),
) -> list[str]:
    first, last = name.split()
    email = f"{first.lower()}@example.com"
    return [
        record_id,
        first,
        last,
        email,
        "+1 555 0100",
        f"{last} Ltd",
        "Head of Operations",
        "Ann Owner",
        stage,
        lead_status,
        source,
        "",
        "",
        created,
        "Software",
        "120",
        "United States",
        *dates,
    ]


def deal(
    record_id: str, stage: str, contacts: str, close: str = "", reason: str = ""
) -> list[str]:
    return [
        record_id,
        f"Deal {record_id}",
        stage,
        "Sales Pipeline",
        close,
        "12000",
        reason,
        "2024-03-07 12:00",
        "Dan Dealer",
        contacts,
    ]


@pytest.fixture
def export(tmp_path: Path) -> list[Path]:
    """A contacts export and a deals export, as HubSpot names their columns.

    Seven contacts came in during 2024-W10 and one on the Tuesday after,
    so the audit reports on 2024-W10.
    """
    contacts = write_csv(
        tmp_path / "hubspot-crm-exports-all-contacts.csv",
        CONTACT_COLUMNS,
        [
            contact(
                "101",
                "Ada Lovelace",
                "Customer",
                "Organic Search",
                "2024-03-04 09:15",
                dates=("2024-03-06 10:00", "2024-03-08 11:00", "2024-03-20 16:00"),
            ),
            contact(
                "102",
                "Grace Hopper",
                "Sales Qualified Lead",
                "Paid Search",
                "2024-03-05 10:00",
            ),
            contact(
                "103",
                "Alan Turing",
                "Marketing Qualified Lead",
                "Email Marketing",
                "2024-03-05 11:00",
            ),
            contact(
                "104",
                "Edsger Dijkstra",
                "Lead",
                "Direct Traffic",
                "2024-03-06 12:00",
                lead_status="Unqualified",
            ),
            contact(
                "105", "Barbara Liskov", "Opportunity", "Referrals", "2024-03-06 13:00"
            ),
            contact(
                "106",
                "Katherine Johnson",
                "Subscriber",
                "Offline Sources",
                "2024-03-07 14:00",
            ),
            contact(
                "107",
                "Margaret Hamilton",
                "Other",
                "Organic Social",
                "2024-03-08 15:00",
            ),
            contact(
                "108",
                "Radia Perlman",
                "Evangelist",
                "Paid Social",
                "2024-03-12 16:00",
                dates=("", "", "2024-03-13 09:00"),
            ),
        ],
    )
    deals = write_csv(
        tmp_path / "hubspot-crm-exports-all-deals.csv",
        DEAL_COLUMNS,
        [
            deal("9001", "Closed Won", "101", close="2024-03-20 16:00"),
            deal("9002", "Presentation Scheduled", "102"),
            deal(
                "9004",
                "Closed Lost",
                "105",
                close="2024-03-15 09:00",
                reason="They chose a cheaper tool.",
            ),
            deal("9005", "Contract Sent", "102;103"),
            deal("9006", "Appointment Scheduled", "106"),
        ],
    )
    return [contacts, deals]


def test_every_contact_is_created_and_every_value_maps(export: list[Path]) -> None:
    report = audit(*export, preset="hubspot")

    assert report["import"]["created"] == 8
    assert report["import"]["rejected"] == 0
    assert report["import"]["unmapped"] == {}
    assert "no_created_date" not in codes(report)


def test_lifecycle_stages_map_and_a_joined_deal_stage_overrides_them(
    export: list[Path],
) -> None:
    leads = imported(*export, preset="hubspot")

    stages = {key: lead.stage for key, lead in leads.items()}

    assert stages == {
        "101": "won",  # Customer, and its deal Closed Won
        "102": "opportunity",  # Sales Qualified Lead, deal Presentation Scheduled
        "103": "inquiry",  # Marketing Qualified Lead, no deal of its own
        "104": "inquiry",  # Lead
        "105": "lost",  # Opportunity, deal Closed Lost
        "106": "contacted",  # Subscriber, deal Appointment Scheduled
        "107": "inquiry",  # Other
        "108": "won",  # Evangelist
    }


def test_original_sources_map_to_the_contracts_sources(export: list[Path]) -> None:
    leads = imported(*export, preset="hubspot")

    sources = {key: lead.source for key, lead in leads.items()}

    assert sources == {
        "101": "organic_search",
        "102": "paid_search",
        "103": "email",
        "104": "direct_traffic",
        "105": "referral",
        "106": "offline_sources",
        "107": "social",
        "108": "social",
    }


def test_the_compliance_report_counts_sources_on_the_contracts_list(
    export: list[Path],
) -> None:
    compliance = audit(*export, preset="hubspot")["compliance"]

    assert compliance["source"]["count"] == 8
    # Direct traffic and offline sources are not on the default list.
    assert compliance["source_in_contract"]["count"] == 6


def test_the_pulse_counts_the_weeks_arrivals_by_source(export: list[Path]) -> None:
    pulse = audit(*export, preset="hubspot")["pulse"]

    by_source = {s["source"]: s["count"] for s in pulse["leads_in"]["by_source"]}

    assert pulse["week"] == "2024-W10"
    assert pulse["leads_in"]["total"] == 7
    assert by_source == {
        "organic_search": 1,
        "paid_search": 1,
        "email": 1,
        "direct_traffic": 1,
        "referral": 1,
        "offline_sources": 1,
        "social": 1,
    }


def test_contact_fields_are_read_from_their_documented_columns(
    export: list[Path],
) -> None:
    ada = imported(*export, preset="hubspot")["101"]

    assert ada.name == "Ada Lovelace"
    assert ada.email == "ada@example.com"
    assert ada.phone == "+1 555 0100"
    assert ada.company == "Lovelace Ltd"
    assert ada.industry == "Software"
    assert ada.employees == 120
    assert ada.location == "United States"
    assert ada.created_at == datetime(2024, 3, 4, 9, 15, tzinfo=UTC)
    assert ada.owner == "Dan Dealer"
    assert ada.extra["Deal Name"] == "Deal 9001"
    assert ada.extra["amount"] == "12000"


def test_a_customer_without_a_deal_is_won_when_it_became_one(
    export: list[Path],
) -> None:
    radia = imported(*export, preset="hubspot")["108"]

    assert radia.closed_at == datetime(2024, 3, 13, 9, tzinfo=UTC)


def test_became_dates_say_when_a_contact_was_qualified(export: list[Path]) -> None:
    ada = imported(*export, preset="hubspot")["101"]

    qualified = ada.events.get(milestone="qualified")

    assert (qualified.stage, qualified.at) == (
        "qualified",
        datetime(2024, 3, 6, 10, tzinfo=UTC),
    )
    opportunity = ada.events.get(kind="stage", stage="opportunity")
    assert opportunity.at == datetime(2024, 3, 8, 11, tzinfo=UTC)


def test_a_closed_lost_reason_becomes_the_loss_note(export: list[Path]) -> None:
    barbara = imported(*export, preset="hubspot")["105"]

    assert barbara.loss_note == "They chose a cheaper tool."
    assert barbara.loss_reason == ""
    assert barbara.closed_at == datetime(2024, 3, 15, 9, tzinfo=UTC)


def test_a_deal_with_several_contacts_is_reported_unjoined(export: list[Path]) -> None:
    report = audit(*export, preset="hubspot")

    unjoined = warning(report, "unjoined_rows")

    assert (unjoined["file"], unjoined["count"]) == ("deals", 1)


def test_the_lead_status_is_kept_but_does_not_move_the_stage(
    export: list[Path],
) -> None:
    edsger = imported(*export, preset="hubspot")["104"]

    assert edsger.stage == "inquiry"
    assert edsger.extra["Lead Status"] == "Unqualified"


def test_a_contacts_export_alone_is_read(export: list[Path]) -> None:
    report = audit(export[0], preset="hubspot")

    assert report["import"]["created"] == 8
    assert report["import"]["unmapped"] == {}
    assert report["compliance"]["lost_with_reason"]["of"] == 0
