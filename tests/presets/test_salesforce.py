from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError

from conftest import shared_file

from .support import audit, codes, imported, warning, write_csv

pytestmark = pytest.mark.django_db

SAMPLES = "crm_templates/salesforce_samples"

#: Each sample's lead file, and the opportunity file exported with it.
LEAD_SAMPLES = [
    ("trailheadapps_easy-spaces-lwc", "Lead_Data.csv", None),
    ("trailheadapps_easy-spaces-lwc", "Leads.json", None),
    ("dcarroll_data-import-test-org", "Lead.json", "Opportunity.json"),
    ("lasfdg_salesforce-data-loader-examples", "Lead.json", "Opportunity.json"),
]
OPPORTUNITY_SAMPLES = [
    ("dcarroll_data-import-test-org", "Opportunity.json"),
    ("lasfdg_salesforce-data-loader-examples", "Opportunity.json"),
]

#: The contract stage each standard lead status means; no status is an inquiry.
LEAD_STAGE = {
    "": "inquiry",
    "Open - Not Contacted": "inquiry",
    "Working - Contacted": "contacted",
    "Closed - Converted": "qualified",
    "Closed - Not Converted": "lost",
}
#: The contract stage each standard opportunity stage means.
OPPORTUNITY_STAGE = {
    "Prospecting": "qualified",
    "Qualification": "qualified",
    "Needs Analysis": "opportunity",
    "Value Proposition": "opportunity",
    "Id. Decision Makers": "opportunity",
    "Perception Analysis": "opportunity",
    "Proposal/Price Quote": "opportunity",
    "Negotiation/Review": "opportunity",
    "Closed Won": "won",
    "Closed Lost": "lost",
}
#: Lead sources in the samples that name a source on the default contract's list.
SOURCES_IN_CONTRACT = {"Web", "Partner Referral", "Purchased List"}


def raw_records(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    return json.loads(path.read_text(encoding="utf-8"))["records"]


def sample(folder: str, name: str) -> Path:
    return shared_file(SAMPLES, folder, name)


def lead_files(folder: str, leads: str, opportunities: str | None) -> list[Path]:
    files = [sample(folder, leads)]
    if opportunities:
        files.append(sample(folder, opportunities))
    return files


@pytest.fixture(params=LEAD_SAMPLES, ids=lambda s: f"{s[0]}/{s[1]}")
def export(request: pytest.FixtureRequest) -> list[Path]:
    return lead_files(*request.param)


# The shared samples


def test_each_sample_lead_is_created_once(export: list[Path]) -> None:
    records = raw_records(export[0])
    emails = {r["Email"].lower() for r in records}

    report = audit(*export, preset="salesforce")

    assert report["import"]["read"] == len(records)
    assert report["import"]["created"] == len(emails)
    assert report["import"]["rejected"] == 0
    assert report["compliance"]["leads"] == len(emails)


def test_each_sample_lead_is_reported_as_undated(export: list[Path]) -> None:
    records = raw_records(export[0])

    report = audit(*export, preset="salesforce")

    assert warning(report, "no_created_date")["count"] == len(records)
    assert report["compliance"]["created_date_known"]["count"] == 0
    assert report["pulse"] is None


def test_every_sample_status_and_source_maps(export: list[Path]) -> None:
    report = audit(*export, preset="salesforce")

    assert report["import"]["unmapped"] == {}
    assert "unmapped_values" not in codes(report)


def test_sample_sources_are_counted_as_the_file_has_them(export: list[Path]) -> None:
    sources = [r.get("LeadSource") or "" for r in raw_records(export[0])]

    compliance = audit(*export, preset="salesforce")["compliance"]

    assert compliance["source"]["count"] == sum(1 for s in sources if s)
    in_contract = sum(1 for s in sources if s in SOURCES_IN_CONTRACT)
    assert compliance["source_in_contract"]["count"] == in_contract


def test_sample_leads_closed_without_conversion_are_lost(export: list[Path]) -> None:
    statuses = [r.get("Status") or "" for r in raw_records(export[0])]

    compliance = audit(*export, preset="salesforce")["compliance"]

    assert compliance["lost_with_reason"]["of"] == statuses.count(
        "Closed - Not Converted"
    )


def test_each_sample_lead_takes_the_stage_its_status_means(
    export: list[Path],
) -> None:
    records = raw_records(export[0])
    expected = {r["Email"].lower(): LEAD_STAGE[r.get("Status") or ""] for r in records}

    leads = imported(*export, preset="salesforce")

    assert {email: lead.stage for email, lead in leads.items()} == expected


def test_a_data_tree_reference_id_is_kept_but_identifies_no_lead() -> None:
    path = sample("lasfdg_salesforce-data-loader-examples", "Lead.json")

    leads = imported(path, preset="salesforce")

    akin = leads["kakin@athenahome.com"]
    assert akin.external_id == ""
    assert akin.extra["referenceId"] == "LeadRef1"


@pytest.mark.parametrize(
    ("folder", "opportunities"), OPPORTUNITY_SAMPLES, ids=lambda s: s
)
def test_sample_opportunities_with_no_converted_lead_are_reported_unjoined(
    folder: str, opportunities: str
) -> None:
    files = lead_files(folder, "Lead.json", opportunities)
    count = len(raw_records(files[1]))

    report = audit(*files, preset="salesforce")

    unjoined = warning(report, "unjoined_rows")
    assert (unjoined["file"], unjoined["count"]) == ("opportunities", count)


@pytest.mark.parametrize(
    ("folder", "opportunities"), OPPORTUNITY_SAMPLES, ids=lambda s: s
)
def test_sample_opportunities_joined_to_their_leads_give_the_stage(
    tmp_path: Path, folder: str, opportunities: str
) -> None:
    # The samples link no lead to an opportunity, so one lead is written
    # for each, converted into it through its referenceId.
    path = sample(folder, opportunities)
    deals = raw_records(path)
    leads = [
        {
            "Company": f"Company {n}",
            "Email": f"lead{n}@example.com",
            "Status": "Closed - Converted",
            "ConvertedOpportunityId": deal["attributes"]["referenceId"],
        }
        for n, deal in enumerate(deals)
    ]
    lead_file = tmp_path / "Lead.json"
    lead_file.write_text(json.dumps({"records": leads}), encoding="utf-8")

    report = audit(lead_file, path, preset="salesforce")
    stages = Counter(
        lead.stage for lead in imported(lead_file, path, preset="salesforce").values()
    )

    assert report["import"]["unmapped"] == {}
    assert "unjoined_rows" not in codes(report)
    assert stages == Counter(OPPORTUNITY_STAGE[d["StageName"]] for d in deals)


def test_an_opportunity_export_alone_is_refused_naming_the_leads_file() -> None:
    path = sample("lasfdg_salesforce-data-loader-examples", "Opportunity.json")

    with pytest.raises(CommandError) as caught:
        audit(path, preset="salesforce")

    assert "none of the files is the leads file" in str(caught.value)


# Exports written here


def test_a_report_export_by_label_joins_a_lead_to_its_opportunity(
    tmp_path: Path,
) -> None:
    leads = write_csv(
        tmp_path / "leads.csv",
        [
            "Lead ID",
            "First Name",
            "Last Name",
            "Company",
            "Email",
            "Phone",
            "Lead Source",
            "Lead Status",
            "Industry",
            "No. of Employees",
            "Country",
            "Created Date",
            "Lead Owner",
            "Title",
            "Rating",
            "Converted Date",
            "Converted Opportunity ID",
        ],
        [
            [
                "00Q1",
                "Kristen",
                "Akin",
                "Aethna Home Products",
                "kakin@example.com",
                "(434) 369-3100",
                "Web",
                "Closed - Converted",
                "Retail",
                "120",
                "USA",
                "2018-03-05",
                "Ann Owner",
                "Director",
                "Hot",
                "2018-03-20",
                "0061",
            ],
            [
                "00Q2",
                "Betty",
                "Bair",
                "American Banking Corp.",
                "bblair@example.com",
                "",
                "Phone Inquiry",
                "Working - Contacted",
                "Banking",
                "",
                "USA",
                "2018-03-06",
                "Bob Owner",
                "",
                "",
                "",
                "",
            ],
        ],
    )
    opportunities = write_csv(
        tmp_path / "opportunities.csv",
        [
            "Opportunity ID",
            "Opportunity Name",
            "Stage",
            "Close Date",
            "Amount",
            "Opportunity Owner",
        ],
        [
            [
                "0061",
                "Aethna generators",
                "Closed Won",
                "2018-04-02",
                "235000",
                "Cleo Closer",
            ]
        ],
    )

    found = imported(leads, opportunities, preset="salesforce")

    akin, bair = found["00Q1"], found["00Q2"]
    assert (akin.stage, bair.stage) == ("won", "contacted")
    assert akin.name == "Kristen Akin"
    assert akin.owner == "Cleo Closer"
    assert akin.source == "web_form"
    assert bair.source == "phone_inquiry"
    assert akin.employees == 120
    assert akin.created_at == datetime(2018, 3, 5, tzinfo=UTC)
    assert akin.closed_at == datetime(2018, 4, 2, tzinfo=UTC)
    assert akin.extra["amount"] == "235000"
    assert akin.extra["Lead Status"] == "Closed - Converted"


def test_a_converted_lead_was_qualified_on_its_converted_date(tmp_path: Path) -> None:
    leads = write_csv(
        tmp_path / "leads.csv",
        [
            "Lead ID",
            "Company",
            "Email",
            "Lead Status",
            "Created Date",
            "Converted Date",
            "Converted Opportunity ID",
        ],
        [
            [
                "00Q1",
                "Acme",
                "a@example.com",
                "Closed - Converted",
                "2018-03-05",
                "2018-03-20",
                "0061",
            ]
        ],
    )
    opportunities = write_csv(
        tmp_path / "opportunities.csv",
        ["Opportunity ID", "Stage", "Close Date"],
        [["0061", "Closed Lost", "2018-04-02"]],
    )

    lead = imported(leads, opportunities, preset="salesforce")["00Q1"]

    qualified = lead.events.get(milestone="qualified")
    assert lead.stage == "lost"
    assert qualified.at == datetime(2018, 3, 20, tzinfo=UTC)


def test_an_api_name_json_export_joins_on_the_converted_opportunity_id(
    tmp_path: Path,
) -> None:
    leads = {
        "records": [
            {
                "attributes": {"type": "Lead", "referenceId": "LeadRef1"},
                "Id": "00Q0S000002QgjUUAS",
                "LastName": "Boxer",
                "Company": "Farmers Coop. of Florida",
                "Email": "bertha@example.com",
                "LeadSource": "Partner Referral",
                "Status": "Closed - Converted",
                "NumberOfEmployees": 45,
                "CreatedDate": "2018-06-01T09:30:00.000+0000",
                "ConvertedDate": "2018-06-10",
                "ConvertedOpportunityId": "0060S000006FFuEQAW",
                "OwnerId": "0050S000001",
            }
        ]
    }
    deals = {
        "records": [
            {
                "attributes": {"type": "Opportunity", "referenceId": "OpportunityRef1"},
                "Id": "0060S000006FFuEQAW",
                "Name": "Farmers Coop generators",
                "StageName": "Negotiation/Review",
                "CloseDate": "2018-07-27",
                "Amount": 120000,
                "Type": "New Customer",
            }
        ]
    }
    lead_file = tmp_path / "Lead.json"
    deal_file = tmp_path / "Opportunity.json"
    lead_file.write_text(json.dumps(leads), encoding="utf-8")
    deal_file.write_text(json.dumps(deals), encoding="utf-8")

    report = audit(lead_file, deal_file, preset="salesforce")
    boxer = imported(lead_file, deal_file, preset="salesforce")["00Q0S000002QgjUUAS"]

    assert report["import"]["created"] == 1
    assert codes(report) == set()
    assert report["compliance"]["created_date_known"]["count"] == 1
    assert boxer.stage == "opportunity"
    assert boxer.created_at == datetime(2018, 6, 1, 9, 30, tzinfo=UTC)
    assert boxer.source == "partner"
    assert boxer.employees == 45
    assert boxer.extra["Type"] == "New Customer"
    assert boxer.extra["amount"] == "120000"


def test_a_status_outside_the_standard_picklist_is_reported_unmapped(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "leads.csv",
        ["Company", "Email", "Status"],
        [["Acme", "a@example.com", "Recycled"], ["Bolt", "b@example.com", "New"]],
    )

    report = audit(path, preset="salesforce")

    assert report["import"]["unmapped"] == {"stage": {"Recycled": 1}}
