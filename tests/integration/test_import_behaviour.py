"""What `leadrelay import` does with awkward files: every row is imported, rejected
with its reason, or refused with the place named, and nothing is lost silently."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadrelay.contract import default_text
from leadrelay.models import Event, Lead

pytestmark = [pytest.mark.django_db]

OLIST_LEADS = "mql_id,first_contact_date,landing_page_id,origin"
OLIST_DEALS = "mql_id,seller_id,sdr_id,sr_id,won_date,business_segment"
MAVEN = ",".join(
    (
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    )
)
ZOHO = "LEADID,Last Name,Company,Lead Owner,Email,Lead Source,Lead Status,Created Time"


def zoho_row(
    lead_id: str,
    created: str = "15 Apr, 2021 00:03:00",
    company: str = "Acme",
    status: str = "Contacted",
    last_name: str = "Denson",
) -> str:
    cells = (lead_id, last_name, company, "Ann Lee", f"lead{lead_id}@example.com")
    return ",".join((*cells, "Partner", status, f'"{created}"'))


@pytest.fixture
def contract(tmp_path: Path, settings: Any) -> Path:
    """A workspace contract, the default one, for the import to judge under."""
    path = tmp_path / "funnel.toml"
    path.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    return path


def set_contract(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the default contract no longer has {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def run_import(*args: Any) -> dict[str, Any]:
    out = StringIO()
    call_command("import", *[str(a) for a in args], "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def refused(*args: Any) -> CommandError:
    with pytest.raises(CommandError) as caught:
        call_command("import", *[str(a) for a in args], stdout=StringIO())
    return caught.value


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def ids() -> set[str]:
    return set(Lead.objects.values_list("external_id", flat=True))


def lead(external_id: str) -> Lead:
    return Lead.objects.get(external_id=external_id)


# -- a broken contract ----------------------------------------------------------


def test_a_broken_contract_is_refused_with_exit_code_2_and_every_problem_by_key_path(
    contract: Path, tmp_path: Path
) -> None:
    set_contract(
        contract, 'timezone = "UTC"', 'timezone = "Mars/Olympus"\ncolour = "red"'
    )
    set_contract(
        contract,
        'requires = ["owner", "next_action"]',
        'requires = ["owner", "next_action", "budget"]',
    )
    set_contract(contract, 'stage = "qualified"', 'stage = "hot"')
    leads = write(tmp_path / "leads.csv", [OLIST_LEADS, "a,2018-03-05,lp,social"])

    error = refused(leads, "--preset", "olist")

    assert error.returncode == 2
    message = str(error)
    assert str(contract) in message
    assert "4 problems" in message
    assert "funnel.timezone" in message and "Mars/Olympus" in message
    assert "funnel.colour" in message
    assert "stages[3].requires[2]" in message and "budget" in message
    assert "qualified.stage" in message and "hot" in message
    assert Lead.objects.count() == 0


# -- broken CSV -------------------------------------------------------------------


def test_a_row_with_more_cells_than_the_header_is_rejected_beside_the_input(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [
            OLIST_LEADS,
            "a,2018-03-05,lp1,social",
            "b,2018-03-06,lp2,email,surplus",
            "c,2018-03-07,lp3,paid_search",
        ],
    )

    summary = run_import(leads, "--preset", "olist")["import"]

    rejects = tmp_path / "leads.rejects.csv"
    assert (summary["read"], summary["created"], summary["rejected"]) == (3, 2, 1)
    assert summary["rejects_file"] == str(rejects)
    assert ids() == {"a", "c"}
    rows = read_csv(rejects)
    assert rows[0][:3] == ["row", "line", "reason"]
    assert rows[1][:2] == ["2", "3"]
    assert "more cells than the header" in rows[1][2]
    # Nothing of the rejected row is lost, the surplus cell included.
    assert rows[1][3:] == ["b", "2018-03-06", "lp2", "email", "surplus"]


def test_rejects_go_where_the_rejects_option_says(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "a,2018-03-05,lp1,social,surplus", "b,2018-03-06,lp2,email"],
    )
    target = tmp_path / "out" / "bad.csv"
    target.parent.mkdir()

    summary = run_import(leads, "--preset", "olist", "--rejects", target)["import"]

    assert summary["rejects_file"] == str(target)
    row = read_csv(target)[1]
    assert (row[0], row[1], row[3]) == ("1", "2", "a")
    assert "more cells than the header" in row[2]
    assert not (tmp_path / "leads.rejects.csv").exists()
    assert ids() == {"b"}


def test_a_row_with_a_date_that_is_not_a_date_is_rejected_naming_the_column(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [
            OLIST_LEADS,
            "a,2018-03-05,lp1,social",
            "b,2018-02-31,lp2,email",
            "c,2018-03-07,lp3,email",
        ],
    )

    summary = run_import(leads, "--preset", "olist")["import"]

    assert (summary["created"], summary["rejected"]) == (2, 1)
    reason = read_csv(tmp_path / "leads.rejects.csv")[1][2]
    assert (
        "row 2" in reason and "first_contact_date" in reason and "2018-02-31" in reason
    )
    assert ids() == {"a", "c"}


def test_a_row_that_identifies_no_lead_is_rejected(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, ",2018-03-05,lp1,social", "b,2018-03-06,lp2,email"],
    )

    summary = run_import(leads, "--preset", "olist")["import"]

    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert "nothing identifies the lead" in summary["reject_examples"][0]["reason"]


def test_a_nul_byte_refuses_the_file_naming_it_and_the_line_and_imports_nothing(
    contract: Path, tmp_path: Path
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes(
        f"{OLIST_LEADS}\na,2018-03-05,lp1,social\nb,2018-03-06,lp\x002,email\n".encode()
    )

    error = refused(leads, "--preset", "olist")

    assert error.returncode == 2
    assert f"{leads}, line 3" in str(error)
    assert "NUL" in str(error)
    assert Lead.objects.count() == 0


def test_an_unterminated_quote_refuses_the_file_naming_it_and_the_line(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [
            OLIST_LEADS,
            "a,2018-03-05,lp1,social",
            'b,2018-03-06,"lp2,email',
            "c,2018-03-07,lp3,email",
        ],
    )

    error = refused(leads, "--preset", "olist")

    assert error.returncode == 2
    assert f"{leads}, line 3" in str(error)
    assert "quote" in str(error)
    assert Lead.objects.count() == 0


def test_an_unterminated_quote_far_into_a_file_names_the_line_and_says_what_was_kept(
    contract: Path, tmp_path: Path
) -> None:
    # Far enough in that the first look at the file does not reach it.
    good = [f"id{i},2018-03-05,lp,social" for i in range(40)]
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, *good, 'bad,2018-03-06,"lp,email', "z,2018-03-07,lp,email"],
    )

    error = refused(leads, "--preset", "olist")

    assert error.returncode == 2
    assert f"{leads}, line 42" in str(error)
    # Either nothing is kept, or exactly the rows before the quote and the
    # message says how many: never a part of them, never a row after it.
    kept = ids()
    before = {f"id{i}" for i in range(40)}
    assert kept in (set(), before)
    assert not kept or "40 rows before it" in str(error)


def test_an_empty_file_is_refused_naming_it(contract: Path, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes(b"")

    error = refused(leads, "--preset", "olist")

    assert error.returncode == 2
    assert str(leads) in str(error) and "empty" in str(error)


# -- dates ------------------------------------------------------------------------


def test_a_date_column_that_reads_both_ways_is_refused_naming_it_and_the_override(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "a,01/02/2021,lp1,social", "b,03/04/2021,lp2,email"],
    )

    error = refused(leads, "--preset", "olist")

    assert error.returncode == 2
    assert "first_contact_date" in str(error)
    assert "--date-format day-first" in str(error)
    assert "--date-format month-first" in str(error)
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("choice", "a", "b"),
    [
        (
            "day-first",
            datetime(2021, 2, 1, tzinfo=UTC),
            datetime(2021, 4, 3, tzinfo=UTC),
        ),
        (
            "month-first",
            datetime(2021, 1, 2, tzinfo=UTC),
            datetime(2021, 3, 4, tzinfo=UTC),
        ),
    ],
)
def test_the_date_format_override_reads_ambiguous_dates_as_told(
    contract: Path, tmp_path: Path, choice: str, a: datetime, b: datetime
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "a,01/02/2021,lp1,social", "b,03/04/2021,lp2,email"],
    )

    summary = run_import(leads, "--preset", "olist", "--date-format", choice)["import"]

    assert summary["created"] == 2
    assert (lead("a").created_at, lead("b").created_at) == (a, b)


def test_zoho_dates_are_wall_clock_times_in_the_contract_time_zone(
    contract: Path, tmp_path: Path
) -> None:
    set_contract(contract, 'timezone = "UTC"', 'timezone = "America/Sao_Paulo"')
    leads = write(
        tmp_path / "Leads.csv",
        [
            ZOHO,
            zoho_row("4563", "15 Apr, 2021 00:03:00"),
            zoho_row("4564", "01 Aug, 2018 23:30:00"),
        ],
    )

    summary = run_import(leads, "--preset", "zoho")["import"]

    assert summary["created"] == 2
    assert summary["date_formats"] == {"Leads.csv:Created Time": "text-month"}
    # São Paulo is three hours behind UTC.
    assert lead("4563").created_at == datetime(2021, 4, 15, 3, 3, tzinfo=UTC)
    assert lead("4564").created_at == datetime(2018, 8, 2, 2, 30, tzinfo=UTC)


def test_timestamps_without_a_zone_follow_the_contract_zone_across_daylight_saving(
    contract: Path, tmp_path: Path
) -> None:
    set_contract(contract, 'timezone = "UTC"', 'timezone = "America/Sao_Paulo"')
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "summer,2018-01-10,lp,social", "autumn,2018-03-10,lp,social"],
    )
    deals = write(
        tmp_path / "deals.csv",
        [
            OLIST_DEALS,
            "summer,s,d,r,2018-01-15 10:00:00,pet",
            "autumn,s,d,r,2018-03-15 10:00:00,pet",
        ],
    )

    run_import(leads, deals, "--preset", "olist")

    # Brazil kept summer time (UTC-2) until 18 February 2018; UTC-3 after it.
    assert lead("summer").created_at == datetime(2018, 1, 10, 2, tzinfo=UTC)
    assert lead("summer").closed_at == datetime(2018, 1, 15, 12, tzinfo=UTC)
    assert lead("autumn").created_at == datetime(2018, 3, 10, 3, tzinfo=UTC)
    assert lead("autumn").closed_at == datetime(2018, 3, 15, 13, tzinfo=UTC)


# -- values the mapping does not know ---------------------------------------------


def test_an_unmapped_stage_is_counted_by_value_and_the_row_kept_at_the_first_stage(
    contract: Path, tmp_path: Path
) -> None:
    pipeline = write(
        tmp_path / "sales_pipeline.csv",
        [
            MAVEN,
            "O1,Moses Frase,GTX Basic,Cancity,Won,2017-03-01,2017-03-20,1054",
            "O2,Moses Frase,GTX Basic,Cancity,Negotiating,2017-03-02,,",
            "O3,Moses Frase,GTX Basic,Isdom,Negotiating,2017-03-03,,",
            "O4,Moses Frase,GTX Basic,Isdom,Engaging,2017-03-04,,",
        ],
    )

    report = run_import(pipeline, "--preset", "maven")

    summary = report["import"]
    assert (summary["read"], summary["created"], summary["rejected"]) == (4, 4, 0)
    assert summary["unmapped"] == {"stage": {"Negotiating": 2}}
    warning = next(w for w in report["warnings"] if w["code"] == "unmapped_values")
    assert warning["field"] == "stage" and warning["count"] == 2
    assert warning["values"] == {"Negotiating": 2}
    assert '"Negotiating" (2)' in warning["message"]
    assert {lead("O2").stage, lead("O3").stage} == {"inquiry"}
    assert lead("O2").extra.get("unmapped stage") == "Negotiating"
    assert (lead("O1").stage, lead("O4").stage) == ("won", "opportunity")


# -- importing again ----------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [
            OLIST_LEADS,
            "a,2018-03-05,lp1,social",
            "b,2018-03-06,lp2,",
            "c,2018-03-07,lp3,email",
        ],
    )
    deals = write(
        tmp_path / "deals.csv", [OLIST_DEALS, "a,s,d,r,2018-03-20 10:00:00,pet"]
    )
    run_import(leads, deals, "--preset", "olist")
    before = (Lead.objects.count(), Event.objects.count())

    summary = run_import(leads, deals, "--preset", "olist")["import"]

    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 3)
    assert (Lead.objects.count(), Event.objects.count()) == before


def test_a_changed_row_is_updated_with_an_event_holding_before_and_after(
    contract: Path, tmp_path: Path
) -> None:
    rows = [
        OLIST_LEADS,
        "a,2018-03-05,lp1,social",
        "b,2018-03-06,lp2,email",
        "c,2018-03-07,lp3,email",
    ]
    leads = write(tmp_path / "leads.csv", rows)
    run_import(leads, "--preset", "olist")
    events_before = Event.objects.count()
    rows[2] = "b,2018-03-06,lp2,referral"
    write(leads, rows)

    summary = run_import(leads, "--preset", "olist")["import"]

    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 1, 2)
    assert Lead.objects.count() == 3
    assert lead("b").source == "referral"
    updated = Event.objects.filter(kind="updated")
    assert updated.count() == 1 == Event.objects.count() - events_before
    event = updated.get()
    assert event.lead == lead("b")
    assert event.data["changes"]["source"] == {"before": "email", "after": "referral"}


def test_every_row_read_is_accounted_for_when_a_record_id_repeats_in_one_file(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [
            OLIST_LEADS,
            "a,2018-03-05,lp1,social",
            "b,2018-03-06,lp2,email",
            "a,2018-03-07,lp3,paid_search",
        ],
    )

    report = run_import(leads, "--preset", "olist")

    summary = report["import"]
    outcomes = ("created", "updated", "unchanged", "rejected", "footer_rows")
    accounted = sum(summary[k] for k in outcomes) == summary["read"]
    mentioned = any(
        "a" in w.get("examples", []) or "duplicate" in w["message"].lower()
        for w in report["warnings"]
    )
    assert accounted or mentioned


# -- footers, encodings and delimiters ------------------------------------------------


def test_a_totals_row_at_the_end_is_not_a_lead(contract: Path, tmp_path: Path) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [
            OLIST_LEADS,
            "a,2018-03-05,lp1,social",
            "b,2018-03-06,lp2,email",
            "Total,,,123",
        ],
    )

    summary = run_import(leads, "--preset", "olist")["import"]

    assert (summary["created"], summary["footer_rows"], summary["rejected"]) == (
        2,
        1,
        0,
    )
    assert ids() == {"a", "b"}


def test_a_lead_whose_name_starts_with_total_is_still_a_lead(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "Leads.csv",
        [
            ZOHO,
            zoho_row("7", company="Total Gym", last_name="Total Gym Ltd"),
        ],
    )

    summary = run_import(leads, "--preset", "zoho")["import"]

    assert (summary["created"], summary["footer_rows"]) == (1, 0)


def zoho_rows(company: str = "Café Noir") -> list[str]:
    return [ZOHO, zoho_row("1", company=company), zoho_row("2", status="Junk Lead")]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_utf8_with_a_bom_and_windows_1252_are_read_as_text(
    contract: Path, tmp_path: Path, encoding: str
) -> None:
    leads = write(tmp_path / "Leads.csv", zoho_rows(), encoding=encoding)

    summary = run_import(leads, "--preset", "zoho")["import"]

    assert (summary["created"], summary["rejected"]) == (2, 0)
    assert lead("1").company == "Café Noir"
    assert lead("2").stage == "lost"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimited_files_are_read(
    contract: Path, tmp_path: Path, delimiter: str
) -> None:
    rows = [
        OLIST_LEADS.replace(",", delimiter),
        delimiter.join(["a", "2018-03-05", "lp, one", "social"]),
        delimiter.join(["b", "2018-03-06", "lp2", "email"]),
    ]
    leads = write(tmp_path / "leads.csv", rows)

    summary = run_import(leads, "--preset", "olist")["import"]

    assert (summary["created"], summary["rejected"]) == (2, 0)
    assert (lead("a").campaign, lead("a").source) == ("lp, one", "social")
    assert lead("b").created_at == datetime(2018, 3, 6, tzinfo=UTC)


def test_a_quoted_cell_with_newlines_is_one_cell_and_later_lines_keep_their_numbers(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "Leads.csv",
        [
            ZOHO,
            zoho_row("1", company='"Acme\r\nWest\r\nBranch"'),
            zoho_row("2") + ",surplus",
        ],
    )

    summary = run_import(leads, "--preset", "zoho")["import"]

    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert lead("1").company == "Acme\r\nWest\r\nBranch"
    assert summary["reject_examples"][0]["row"] == 2
    assert summary["reject_examples"][0]["line"] == 5


# -- history and shapes the preset does not expect ---------------------------


def test_a_deal_won_before_the_lead_came_in_is_kept_as_recorded_and_warned(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "early,2018-03-08,lp1,social", "fine,2018-03-05,lp2,email"],
    )
    deals = write(
        tmp_path / "deals.csv",
        [
            OLIST_DEALS,
            "early,s,d,r,2018-03-06 19:38:55,pet",
            "fine,s,d,r,2018-03-09 10:00:00,pet",
        ],
    )

    report = run_import(leads, deals, "--preset", "olist")

    warning = next(w for w in report["warnings"] if w["code"] == "event_before_created")
    assert warning["count"] == 1
    assert warning["examples"] == ["early"]
    assert "1 leads" in warning["message"] or "1 lead" in warning["message"]
    kept = lead("early")
    assert kept.stage == "won"
    assert kept.created_at == datetime(2018, 3, 8, tzinfo=UTC)
    assert kept.closed_at == datetime(2018, 3, 6, 19, 38, 55, tzinfo=UTC)
    assert Event.objects.get(lead=kept, kind="won").at == kept.closed_at


def test_a_file_matching_no_part_of_the_preset_is_refused_naming_the_columns(
    contract: Path, tmp_path: Path
) -> None:
    other = write(
        tmp_path / "contacts.csv", ["id,full_name,signed_up", "1,Ann,2018-03-05"]
    )

    error = refused(other, "--preset", "olist")

    assert error.returncode == 2
    message = str(error)
    assert str(other) in message
    for column in ("mql_id", "first_contact_date", "origin", "won_date", "seller_id"):
        assert column in message
    assert Lead.objects.count() == 0


def test_a_joined_file_without_its_primary_file_is_refused(
    contract: Path, tmp_path: Path
) -> None:
    deals = write(
        tmp_path / "deals.csv", [OLIST_DEALS, "a,s,d,r,2018-03-20 10:00:00,pet"]
    )

    error = refused(deals, "--preset", "olist")

    assert error.returncode == 2
    assert "mql_id, first_contact_date, origin" in str(error)


# -- the audit leaves no file behind -------------------------------------------


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    return subprocess.run(
        [sys.executable, "-m", "leadrelay.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def export_with_a_bad_row(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    write(
        folder / "leads.csv",
        [OLIST_LEADS, "a,2018-03-05,lp1,social", "b,2018-03-06,lp2,email,surplus"],
    )
    return folder / "leads.csv"


@pytest.mark.slow
def test_the_audit_leaves_no_file_behind(
    tmp_path: Path, export_with_a_bad_row: Path
) -> None:
    before = listing(tmp_path)

    done = cli(
        "audit",
        str(export_with_a_bad_row),
        "--preset",
        "olist",
        "--format",
        "json",
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["import"]["created"], report["import"]["rejected"]) == (1, 1)
    assert report["import"]["rejects_file"] is None
    assert report["import"]["reject_examples"][0]["row"] == 2
    assert listing(tmp_path) == before


@pytest.mark.slow
def test_the_audit_writes_rejects_only_where_asked(
    tmp_path: Path, export_with_a_bad_row: Path
) -> None:
    target = tmp_path / "rejects.csv"
    before = listing(tmp_path)

    done = cli(
        "audit",
        str(export_with_a_bad_row),
        "--preset",
        "olist",
        "--format",
        "json",
        "--rejects",
        str(target),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["import"]["rejects_file"] == str(target)
    assert listing(tmp_path) == before | {"rejects.csv"}
    assert read_csv(target)[1][3] == "b"


# -- known faults --------------------------------------------------------------


def test_the_date_format_override_leaves_unambiguous_iso_columns_alone(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "a,01/02/2021,lp1,social", "b,03/04/2021,lp2,email"],
    )
    deals = write(
        tmp_path / "deals.csv", [OLIST_DEALS, "a,s,d,r,2021-03-06 19:38:55,pet"]
    )

    summary = run_import(
        leads, deals, "--preset", "olist", "--date-format", "day-first"
    )["import"]

    assert (summary["created"], summary["rejected"]) == (2, 0)
    assert lead("a").closed_at == datetime(2021, 3, 6, 19, 38, 55, tzinfo=UTC)


def test_a_rejects_path_that_cannot_be_written_is_refused_naming_it(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(
        tmp_path / "leads.csv",
        [OLIST_LEADS, "a,2018-03-05,lp1,social", "b,2018-03-06,lp2,email,surplus"],
    )
    target = tmp_path / "missing" / "rejects.csv"

    error = refused(leads, "--preset", "olist", "--rejects", target)

    assert error.returncode == 2
    assert str(target) in str(error)


def test_a_joined_row_with_more_cells_than_its_header_is_not_taken_silently(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(tmp_path / "leads.csv", [OLIST_LEADS, "a,2018-03-05,lp1,social"])
    deals = write(
        tmp_path / "deals.csv",
        [OLIST_DEALS, "a,s,d,r,2018-03-20 10:00:00,pet,surplus"],
    )

    report = run_import(leads, deals, "--preset", "olist")

    assert report["import"]["rejected"] == 1 or any(
        "deals.csv" in w["message"] for w in report["warnings"]
    )


def test_a_joined_key_that_repeats_is_reported(contract: Path, tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", [OLIST_LEADS, "a,2018-03-05,lp1,social"])
    deals = write(
        tmp_path / "deals.csv",
        [
            OLIST_DEALS,
            "a,s,d,r1,2018-03-20 10:00:00,pet",
            "a,s,d,r2,2018-04-20 10:00:00,toys",
        ],
    )

    report = run_import(leads, deals, "--preset", "olist")

    assert any(
        "deals.csv" in w["message"] or "a" in w.get("examples", [])
        for w in report["warnings"]
    )


def test_a_late_quote_problem_on_a_re_import_counts_the_rows_already_there(
    contract: Path, tmp_path: Path
) -> None:
    good = [f"id{i},2018-03-05,lp,social" for i in range(40)]
    leads = write(tmp_path / "leads.csv", [OLIST_LEADS, *good])
    run_import(leads, "--preset", "olist")
    write(leads, [OLIST_LEADS, *good, 'bad,2018-03-06,"lp,email'])

    error = refused(leads, "--preset", "olist")

    assert Lead.objects.count() == 40
    assert "The 0 rows" not in str(error)
    assert "40" in str(error)


def test_the_audit_does_not_claim_to_have_imported_rows_it_rolled_back(
    tmp_path: Path,
) -> None:
    good = [f"id{i},2018-03-05,lp,social" for i in range(40)]
    leads = write(
        tmp_path / "leads.csv", [OLIST_LEADS, *good, 'bad,2018-03-06,"lp,email']
    )

    with pytest.raises(CommandError) as caught:
        call_command("audit", str(leads), "--preset", "olist", stdout=StringIO())

    assert caught.value.returncode == 2
    assert Lead.objects.count() == 0
    assert "were imported" not in str(caught.value)
