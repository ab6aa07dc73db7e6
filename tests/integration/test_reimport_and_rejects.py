"""Re-importing narrower files, guarding the rejects path, and files that are no part of an export."""

from __future__ import annotations

import json
import threading
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from leadrelay.contract import default_text
from leadrelay.models import Event, Lead

ZOHO = "LEADID,Last Name,Company,Lead Owner,Email,Lead Source,Lead Status,Created Time"
FULL = [
    ZOHO,
    '1,Denson,Acme,Ann Lee,a@example.com,Partner,Contacted,"15 Apr, 2021 00:03:00"',
    '2,Hall,Brix,Ann Lee,b@example.com,Partner,Pre Qualified,"16 Apr, 2021 00:03:00"',
]


@pytest.fixture
def contract(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "funnel.toml"
    path.write_text(default_text(), encoding="utf-8")
    settings.CONTRACT_PATH = path
    return path


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(*args: Any) -> dict[str, Any]:
    out = StringIO()
    call_command("import", *[str(a) for a in args], "--format", "json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_a_narrower_re_import_changes_values_but_erases_none(
    contract: Path, tmp_path: Path
) -> None:
    run_import(write(tmp_path / "full.csv", FULL), "--preset", "zoho")
    before = Lead.objects.get(external_id="1")
    narrow = write(
        tmp_path / "narrow.csv",
        ["LEADID,Lead Status,Created Time,Company", '1,Pre Qualified,"",'],
    )

    report = run_import(narrow, "--preset", "zoho")

    after = Lead.objects.get(external_id="1")
    assert report["import"]["updated"] == 1
    assert after.stage == "qualified"
    assert (after.company, after.source, after.created_at) == (
        "Acme",
        "Partner",
        before.created_at,
    )
    assert Event.objects.filter(lead=after, kind="created").count() == 1


@pytest.mark.django_db
def test_a_re_import_without_a_stage_column_keeps_the_stage(
    contract: Path, tmp_path: Path
) -> None:
    run_import(write(tmp_path / "full.csv", FULL), "--preset", "zoho")
    names = write(
        tmp_path / "names.csv",
        ["LEADID,Lead Status,Created Time,Last Name", '2,,"16 Apr, 2021 00:03:00",Hal'],
    )

    run_import(names, "--preset", "zoho")

    lead = Lead.objects.get(external_id="2")
    assert (lead.stage, lead.name) == ("qualified", "Hal")


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["input", "contract", "folder", "foreign"])
def test_the_rejects_file_never_writes_over_another_file(
    contract: Path, tmp_path: Path, target: str
) -> None:
    export = write(tmp_path / "leads.csv", [*FULL, "3,x,y,z,c@example.com,P,New,bad,9"])
    foreign = write(tmp_path / "notes.csv", ["my,own,notes"])
    path = {
        "input": export,
        "contract": contract,
        "folder": tmp_path,
        "foreign": foreign,
    }[target]
    kept = {p: p.read_bytes() for p in (export, contract, foreign)}

    with pytest.raises(CommandError) as refused:
        run_import(export, "--preset", "zoho", "--rejects", path)

    assert refused.value.returncode == 2
    assert str(refused.value).startswith(f"--rejects {path}: ")
    assert {p: p.read_bytes() for p in kept} == kept
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_an_earlier_rejects_file_may_be_written_over(
    contract: Path, tmp_path: Path
) -> None:
    export = write(tmp_path / "leads.csv", [*FULL, '3,x,y,z,,P,New,"1 Jan, 2021",9'])
    rejects = tmp_path / "rejects.csv"
    run_import(export, "--preset", "zoho", "--rejects", rejects)

    report = run_import(export, "--preset", "zoho", "--rejects", rejects)

    assert report["import"]["rejected"] == 1
    assert rejects.read_text().startswith("row,line,reason,")


@pytest.mark.django_db
def test_an_employee_count_out_of_range_rejects_only_its_row(
    contract: Path, tmp_path: Path
) -> None:
    header = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
    pipeline = write(
        tmp_path / "sales_pipeline.csv",
        [
            header,
            "A1,Ann,GTX,Acme,Engaging,2017-01-02,,",
            "A2,Ann,GTX,Huge,Engaging,2017-01-03,,",
        ],
    )
    accounts = write(
        tmp_path / "accounts.csv",
        [
            "account,sector,year_established,revenue,employees,office_location,subsidiary_of",
            "Acme,retail,1990,1.0,120,Kenya,",
            "Huge,retail,1990,1.0,99999999999999999999,Kenya,",
        ],
    )

    report = run_import(
        pipeline, accounts, "--preset", "maven", "--rejects", tmp_path / "r.csv"
    )

    assert (report["import"]["created"], report["import"]["rejected"]) == (1, 1)
    assert "employee count" in report["import"]["reject_examples"][0]["reason"]


@pytest.mark.django_db
def test_a_file_that_is_no_part_of_the_export_is_left_out_and_named(
    contract: Path, tmp_path: Path
) -> None:
    leads = write(tmp_path / "Leads.csv", FULL)
    dictionary = write(tmp_path / "data_dictionary.csv", ["Table,Field,Description"])

    report = run_import(leads, dictionary, "--preset", "zoho")

    assert report["import"]["created"] == 2
    left = [w for w in report["warnings"] if w["code"] == "file_left_out"]
    assert len(left) == 1 and "data_dictionary.csv" in left[0]["message"]


@pytest.mark.django_db
def test_two_files_for_one_part_are_refused_by_name(
    contract: Path, tmp_path: Path
) -> None:
    first = write(tmp_path / "a.csv", FULL)
    second = write(tmp_path / "b.csv", FULL)

    with pytest.raises(CommandError) as refused:
        run_import(first, second, "--preset", "zoho")

    assert "are both the leads file" in str(refused.value)
    assert Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_create_each_lead_once(
    contract: Path, tmp_path: Path
) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "threads cannot share an in-memory SQLite database; PostgreSQL runs this"
        )
    rows = [ZOHO] + [
        f'{i},N{i},C,Ann Lee,l{i}@example.com,Partner,Contacted,"15 Apr, 2021 00:03:00"'
        for i in range(3000)
    ]
    export = write(tmp_path / "leads.csv", rows)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def one() -> None:
        try:
            start.wait()
            run_import(export, "--preset", "zoho")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert Lead.objects.count() == 3000
