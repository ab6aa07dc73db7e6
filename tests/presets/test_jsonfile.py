from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError

from leadrelay.intake.csvfile import CsvProblem, CsvSource, Row
from leadrelay.intake.jsonfile import JsonProblem, rows, sniff

from .support import audit

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, content: Any, name: str = "Lead.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, indent=4), encoding="utf-8")
    return path


def read(path: Path) -> list[dict[str, str]]:
    return [row.values for row in rows(sniff(path))]


def problem(path: Path) -> JsonProblem:
    with pytest.raises(JsonProblem) as caught:
        read(path)

    return caught.value


def lead(ref: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead", "referenceId": ref}, **fields}


# Shapes


def test_a_data_tree_export_gives_type_and_reference_id_as_columns(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, {"records": [lead("LeadRef1", LastName="Akin")]})

    source = sniff(path)

    assert source == CsvSource(path, "json", "", ("type", "referenceId", "LastName"))
    assert list(rows(source)) == [
        Row(1, 1, {"type": "Lead", "referenceId": "LeadRef1", "LastName": "Akin"})
    ]


def test_a_plain_list_of_flat_objects_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, [{"Email": "a@example.com"}, {"Email": "b@example.com"}])

    assert read(path) == [{"Email": "a@example.com"}, {"Email": "b@example.com"}]


def test_a_query_result_with_more_keys_beside_records_is_read(tmp_path: Path) -> None:
    data = {"totalSize": 1, "done": True, "records": [lead("r1", Company="Acme")]}
    path = write(tmp_path, data)

    assert read(path) == [{"type": "Lead", "referenceId": "r1", "Company": "Acme"}]


def test_the_header_is_every_key_in_the_order_first_seen(tmp_path: Path) -> None:
    records = [
        lead("r1", LastName="Akin", Email="k@example.com"),
        lead("r2", LastName="Bair", Phone="555", Email="b@example.com"),
        {"Industry": "Retail", "LastName": "Cole"},
    ]
    path = write(tmp_path, {"records": records})

    header = sniff(path).header

    assert header == ("type", "referenceId", "LastName", "Email", "Phone", "Industry")


def test_a_field_a_record_lacks_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path, [{"Email": "a@example.com"}, {"Phone": "555"}])

    assert read(path) == [
        {"Email": "a@example.com", "Phone": ""},
        {"Email": "", "Phone": "555"},
    ]


def test_rows_are_numbered_from_one_and_line_repeats_the_number(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, [{"Email": f"{n}@example.com"} for n in range(3)])

    found = [(row.number, row.line, row.extra) for row in rows(sniff(path))]

    assert found == [(1, 1, ()), (2, 2, ()), (3, 3, ())]


# Values


def test_numbers_keep_their_text_as_written(tmp_path: Path) -> None:
    text = (
        '[{"Int": 900750000, "Float": 2.50, "Exp": 1E3, "Negative": -0.0, '
        '"Huge": 123456789012345678901234567890}]'
    )
    path = write(tmp_path, text)

    assert read(path) == [
        {
            "Int": "900750000",
            "Float": "2.50",
            "Exp": "1E3",
            "Negative": "-0.0",
            "Huge": "123456789012345678901234567890",
        }
    ]


def test_true_false_and_null_become_text(tmp_path: Path) -> None:
    path = write(tmp_path, [{"IsConverted": False, "IsUnread": True, "Fax": None}])

    assert read(path) == [{"IsConverted": "false", "IsUnread": "true", "Fax": ""}]


def test_text_outside_ascii_and_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    text = '[{"City": "Köln", "Company": "Müller & Søn"}]'
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))

    assert read(path) == [{"City": "Köln", "Company": "Müller & Søn"}]


def test_nested_objects_are_flattened_with_dots(tmp_path: Path) -> None:
    record = {
        "Email": "a@example.com",
        "Account": {"Name": "Acme", "Owner": {"Email": "o@example.com"}},
    }
    path = write(tmp_path, [record])

    assert read(path) == [
        {
            "Email": "a@example.com",
            "Account.Name": "Acme",
            "Account.Owner.Email": "o@example.com",
        }
    ]


def test_a_null_or_empty_nested_object_is_an_empty_column(tmp_path: Path) -> None:
    path = write(tmp_path, [{"Account": None}, {"Account": {}}])

    assert read(path) == [{"Account": ""}, {"Account": ""}]


def test_a_list_is_kept_as_its_json_text(tmp_path: Path) -> None:
    text = '[{"Tags": ["vip", 2.50, {"k": true}, null], "Empty": []}]'
    path = write(tmp_path, text)

    assert read(path) == [
        {"Tags": '["vip", 2.50, {"k": true}, null]', "Empty": "[]"},
    ]


def test_other_attribute_keys_keep_their_prefix(tmp_path: Path) -> None:
    record = {"attributes": {"type": "Lead", "url": "/services/data/Lead/1"}}
    path = write(tmp_path, [record])

    assert read(path) == [{"type": "Lead", "attributes.url": "/services/data/Lead/1"}]


def test_attributes_inside_a_nested_object_are_flattened_like_any_field(
    tmp_path: Path,
) -> None:
    record = {"Account": {"attributes": {"type": "Account"}, "Name": "Acme"}}
    path = write(tmp_path, [record])

    assert read(path) == [
        {"Account.attributes.type": "Account", "Account.Name": "Acme"}
    ]


# Problems


def test_bad_json_names_the_file_the_line_and_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{"records": [\n    {"LastName": "Akin",}\n]}')

    found = problem(path)

    assert (found.line, found.column) == (2, 25)
    assert str(found).startswith(f"{path}, line 2, column 25: not valid JSON (")


def test_a_json_problem_is_handled_wherever_a_csv_problem_is(tmp_path: Path) -> None:
    path = write(tmp_path, "[1, 2")

    with pytest.raises(CsvProblem):
        read(path)


def test_a_csv_file_named_json_is_refused_as_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, "Email,Company\na@example.com,Acme\n")

    assert "not valid JSON" in str(problem(path))


def test_bytes_that_are_not_utf8_are_refused_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, b'[\n{"City": "K\xf6ln"}\n]')

    found = problem(path)

    assert found.line == 2
    assert "not UTF-8" in str(found)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "  \n")

    assert str(problem(path)) == f"{path}: the file is empty"


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"

    assert str(problem(path)) == f"{path}: no such file; check the path"


def test_an_object_without_records_is_refused_naming_its_keys(tmp_path: Path) -> None:
    path = write(tmp_path, {"totalSize": 0, "done": True})

    message = str(problem(path))

    assert message.startswith(f'{path}: the file is a JSON object without a "records"')
    assert '"totalSize", "done"' in message


def test_records_that_are_not_a_list_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"records": {"LastName": "Akin"}})

    assert '"records" is an object, not a list' in str(problem(path))


def test_a_file_of_one_value_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '"Akin"')

    assert "the file holds a string, not records" in str(problem(path))


def test_a_record_that_is_not_an_object_is_named_by_its_index(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, {"records": [lead("r1"), lead("r2"), 42]})

    message = str(problem(path))

    assert message.startswith(f"{path}: record 3 is a number (42), not an object")


def test_an_empty_records_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"records": []})

    assert "the records list is empty" in str(problem(path))


def test_records_without_fields_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, [{}, {}])

    assert "the records have no fields" in str(problem(path))


# Through the importer


def test_the_audit_stops_on_bad_json_with_the_place_in_the_message(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, '{"records": [\n  {"Company": "Acme"\n]}')

    with pytest.raises(CommandError) as caught:
        audit(path, preset="salesforce")

    assert f"{path}, line 3, column 1: not valid JSON" in str(caught.value)


def test_a_json_record_that_reads_like_a_totals_line_is_still_a_lead(
    tmp_path: Path,
) -> None:
    # A spreadsheet adds totals lines; a JSON export never does.
    path = write(tmp_path, [{"Company": "Total", "Phone": "5550100", "Employees": 12}])

    report = audit(path, preset="salesforce")

    assert report["import"]["created"] == 1
    assert report["import"]["footer_rows"] == 0


def test_a_file_nested_too_deeply_is_refused_with_its_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000)

    found = str(problem(path))

    assert "Lead.json" in found
    assert "nested too deeply to be a record export" in found
