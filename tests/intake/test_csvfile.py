from __future__ import annotations

import csv
import io
import pickle
import re
import tracemalloc
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_file
from leadrelay.intake import csvfile
from leadrelay.intake.csvfile import CsvProblem, CsvSource, Row, rows, sniff

ZOHO_HEADER = "LEADID,Last Name,Company,Email,Lead Source,Created Time\n"


def write(tmp_path: Path, content: bytes | str, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data)
    return path


def read(path: Path) -> list[Row]:
    return list(rows(sniff(path)))


def problem(path: Path) -> str:
    with pytest.raises(CsvProblem) as caught:
        read(path)

    return str(caught.value)


# Encodings


def test_a_comma_file_is_read_with_its_header_and_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "email,company\na@example.com,Acme\nb@example.com,Bolt\n")

    source = sniff(path)
    found = list(rows(source))

    assert source == CsvSource(path, "utf-8", ",", ("email", "company"))
    assert found == [
        Row(1, 2, {"email": "a@example.com", "company": "Acme"}),
        Row(2, 3, {"email": "b@example.com", "company": "Bolt"}),
    ]


def test_a_semicolon_file_with_a_bom_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfName;City\nM\xc3\xbcller;K\xc3\xb6ln\n")

    source = sniff(path)

    assert (source.encoding, source.delimiter) == ("utf-8-sig", ";")
    assert source.header == ("Name", "City")
    assert [row.values for row in rows(source)] == [{"Name": "Müller", "City": "Köln"}]


def test_a_tab_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "Name\tAmount\tNote\nAcme\t1,5\tsays; maybe\n")

    source = sniff(path)

    assert source.delimiter == "\t"
    assert [row.values for row in rows(source)] == [
        {"Name": "Acme", "Amount": "1,5", "Note": "says; maybe"}
    ]


def test_windows_1252_bytes_are_read_as_cp1252(tmp_path: Path) -> None:
    path = write(tmp_path, b"Company,Owner\nCaf\xe9 M\xfcller,Ren\xe9e \x80\n")

    source = sniff(path)

    assert source.encoding == "cp1252"
    assert [row.values for row in rows(source)] == [
        {"Company": "Café Müller", "Owner": "Renée €"}
    ]


def test_a_utf8_character_split_by_a_chunk_boundary_is_still_utf8(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "Name,City\n" + "Zoë,Köln\n" * 1000)

    with mock.patch.object(csvfile, "_CHUNK_BYTES", 7):
        assert sniff(path).encoding == "utf-8"


def test_a_cp1252_byte_far_into_the_file_is_still_found(tmp_path: Path) -> None:
    ascii_rows = b"Acme,Berlin\n" * 1000
    path = write(tmp_path, b"Company,City\n" + ascii_rows + b"Caf\xe9,Paris\n")

    with mock.patch.object(csvfile, "_CHUNK_BYTES", 64):
        source = sniff(path)

    assert source.encoding == "cp1252"
    assert list(rows(source))[-1].values == {"Company": "Café", "City": "Paris"}


def test_a_byte_neither_utf8_nor_cp1252_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, b"Company,City\nAcme,Berlin\nCaf\xe9\x81,Paris\n")

    assert problem(path) == (
        f"{path}, line 3: byte 0x81 is neither UTF-8 nor Windows-1252 text; "
        "export the file again as CSV UTF-8"
    )


def test_a_bom_file_with_bytes_that_are_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfCompany,City\nAcme,Berlin\nCaf\xe9,Paris\n")

    assert problem(path) == (
        f"{path}, line 3: the file starts as UTF-8 but has bytes here that are "
        "not UTF-8; export it again as CSV UTF-8"
    )


def test_a_utf16_file_is_refused_with_advice(tmp_path: Path) -> None:
    path = write(tmp_path, "Name\tCity\nAcme\tBerlin\n".encode("utf-16"))

    assert problem(path) == (
        f"{path}: the file is UTF-16 text; save it again as CSV UTF-8"
    )


@settings(max_examples=50, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\0"),
        min_size=1,
    ),
    chunk=st.integers(min_value=1, max_value=9),
)
def test_utf8_text_is_detected_whatever_the_chunk_size(
    tmp_path_factory: pytest.TempPathFactory, text: str, chunk: int
) -> None:
    path = write(tmp_path_factory.mktemp("chunks"), "Name,Note\n" + text)

    with mock.patch.object(csvfile, "_CHUNK_BYTES", chunk):
        assert csvfile._detect_encoding(path) == "utf-8"


# Delimiters


def test_a_semicolon_file_with_decimal_commas_is_read_as_semicolons(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "Name;Amount, EUR;Date\nAcme;1,5;15.04.2021\nBolt;2,25;16\n")

    source = sniff(path)

    assert source.delimiter == ";"
    assert source.header == ("Name", "Amount, EUR", "Date")


def test_a_comma_file_with_semicolons_in_its_cells_is_read_as_commas(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        'Company,Note,Email\nAcme,"call; then mail",a@x.io\nBolt,x;y;z,b@x.io\n',
    )

    assert sniff(path).delimiter == ","


def test_a_delimiter_inside_quotes_does_not_count(tmp_path: Path) -> None:
    path = write(tmp_path, 'Name;Note\n"Acme, Inc";"a, b, c"\n"Bolt, Ltd";"d, e"\n')

    source = sniff(path)

    assert source.delimiter == ";"
    assert [row.values["Name"] for row in rows(source)] == ["Acme, Inc", "Bolt, Ltd"]


def test_a_single_column_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "email\na@example.com\nb@example.com\n")

    source = sniff(path)

    assert source.header == ("email",)
    assert [row.values["email"] for row in rows(source)] == [
        "a@example.com",
        "b@example.com",
    ]


# Records and lines


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_quoted_newlines_keep_the_line_where_each_record_starts(
    tmp_path: Path, newline: str
) -> None:
    lines = [
        "Company,Note,Owner",
        'Acme,"first line',
        "second line",
        'third line",Sam',
        "Bolt,short,Kim",
        '"Cap',
        'Co","x",Lee',
    ]
    path = write(tmp_path, newline.join(lines) + newline)

    found = read(path)

    assert [(row.number, row.line) for row in found] == [(1, 2), (2, 5), (3, 6)]
    assert found[0].values["Note"] == newline.join(
        ["first line", "second line", "third line"]
    )
    assert found[2].values["Company"] == f"Cap{newline}Co"


def test_doubled_quotes_are_read_as_one_quote(tmp_path: Path) -> None:
    path = write(tmp_path, 'Company,Note\n"The ""Best"" Co","say ""hi"""\n')

    assert read(path)[0].values == {"Company": 'The "Best" Co', "Note": 'say "hi"'}


def test_a_file_without_a_final_newline_keeps_its_last_row(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City\r\nAcme,Berlin\r\nBolt,Paris")

    assert [row.values["City"] for row in read(path)] == ["Berlin", "Paris"]


def test_blank_lines_are_skipped_and_not_numbered(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\n\nCompany,City\n\nAcme,Berlin\n   \n,\n , \nBolt,Paris\n\n",
    )

    source = sniff(path)
    found = list(rows(source))

    assert source.header == ("Company", "City")
    assert [(row.number, row.line, row.values["Company"]) for row in found] == [
        (1, 5, "Acme"),
        (2, 9, "Bolt"),
    ]


def test_header_names_are_stripped_but_cells_are_raw(tmp_path: Path) -> None:
    path = write(tmp_path, " Company , City\n  Acme , Berlin \n")

    source = sniff(path)

    assert source.header == ("Company", "City")
    assert list(rows(source))[0].values == {"Company": "  Acme ", "City": " Berlin "}


def test_a_short_record_is_padded_with_empty_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City,Email\nAcme\nBolt,Paris\n")

    found = read(path)

    assert [row.values for row in found] == [
        {"Company": "Acme", "City": "", "Email": ""},
        {"Company": "Bolt", "City": "Paris", "Email": ""},
    ]
    assert [row.extra for row in found] == [(), ()]


def test_a_long_record_keeps_its_surplus_cells_in_extra(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City\nAcme,Berlin,oops,again\nBolt,Paris\n")

    found = read(path)

    assert found[0].values == {"Company": "Acme", "City": "Berlin"}
    assert found[0].extra == ("oops", "again")
    assert found[1].extra == ()


def test_a_file_with_only_a_header_has_no_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City\n")

    assert sniff(path).header == ("Company", "City")
    assert read(path) == []


def test_rows_stream_without_holding_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City,Note\n" + "Acme,Berlin,some words\n" * 50_000)
    source = sniff(path)

    tracemalloc.start()
    try:
        count = sum(1 for _ in rows(source))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 50_000
    assert peak < path.stat().st_size / 10


# Problems with the whole file


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"", name="file.csv")

    assert problem(path) == f"{path}: the file is empty"


def test_a_file_holding_only_a_bom_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf")

    assert problem(path) == f"{path}: the file is empty"


def test_a_file_of_blank_lines_has_no_header(tmp_path: Path) -> None:
    path = write(tmp_path, "\n  \r\n\n")

    assert problem(path) == (
        f"{path}: the file has only blank lines, so no header; "
        "put the column names on the first line"
    )


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"

    assert problem(path) == f"{path}: no such file; check the path"


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert problem(tmp_path) == (
        f"{tmp_path}: this is a folder; give the path of a CSV file"
    )


def test_bytes_outside_the_sources_encoding_are_refused_by_rows(
    tmp_path: Path,
) -> None:
    lines = b"Company,City\n" + b"Acme,Berlin\n" * 2000 + b"Caf\xe9,Paris\n"
    path = write(tmp_path, lines)
    source = CsvSource(path, "utf-8", ",", ("Company", "City"))

    with pytest.raises(CsvProblem) as caught:
        list(rows(source))

    assert str(caught.value) == (
        f"{path}, line 2002: the text here is not UTF-8; "
        "export the file again as CSV UTF-8"
    )


def test_a_problem_keeps_its_place_through_pickling(tmp_path: Path) -> None:
    original = CsvProblem(tmp_path / "a.csv", "the header is odd", line=1, column=2)

    copy = pickle.loads(pickle.dumps(original))

    assert str(copy) == str(original)
    assert (copy.path, copy.line, copy.column) == (tmp_path / "a.csv", 1, 2)


def test_a_first_row_of_data_is_not_taken_for_a_header(tmp_path: Path) -> None:
    path = write(tmp_path, "4563,Denson,GaryLDenson@cuvox.de\n4564,Hall,m@a.com\n")

    assert problem(path) == (
        f"{path}, line 1, column 3: the first row looks like data "
        "('GaryLDenson@cuvox.de'), not column names; "
        "add a header row that names the columns"
    )


def test_a_first_row_of_numbers_is_not_taken_for_a_header(tmp_path: Path) -> None:
    path = write(tmp_path, "4563,12.5,7\n4564,3,8\n")

    assert problem(path) == (
        f"{path}, line 1: the first row holds only numbers, not column names; "
        "add a header row that names the columns"
    )


def test_an_empty_column_name_names_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City,Email,,Owner\nAcme,Berlin,a@x.io,,Sam\n")

    assert problem(path) == (
        f"{path}, line 1, column 4: the header has an empty column name; "
        "name the column or remove it"
    )


def test_an_empty_column_name_is_placed_on_the_headers_own_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "\n\nCompany,  ,City\nAcme,x,Berlin\n")

    assert problem(path) == (
        f"{path}, line 3, column 2: the header has an empty column name; "
        "name the column or remove it"
    )


def test_a_duplicated_column_name_names_both_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "Email,Company,City, Email\na@x.io,Acme,Berlin,b@x.io\n")

    assert problem(path) == (
        f"{path}, line 1, column 4: the column name 'Email' is used twice, "
        "in columns 1 and 4; rename one of them"
    )


def test_a_nul_byte_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"Company,City\nAcme,Berlin\nBo\x00lt,Paris\n")

    assert problem(path) == (
        f"{path}, line 3: the file contains a NUL byte, so it is not CSV text "
        "(it may be UTF-16 or a spreadsheet file); export it again as CSV UTF-8"
    )


def test_a_nul_byte_is_refused_even_by_rows_alone(tmp_path: Path) -> None:
    path = write(tmp_path, b"Company,City\nAcme,Berlin\nBo\x00lt,Paris\n")
    source = CsvSource(path, "utf-8", ",", ("Company", "City"))

    with pytest.raises(CsvProblem) as caught:
        list(rows(source))

    assert caught.value.line == 3
    assert "NUL byte" in str(caught.value)


def test_an_unterminated_quote_at_the_end_names_the_line_it_opens(
    tmp_path: Path,
) -> None:
    # More rows than sniff samples, so only rows() reaches the end.
    fine = "".join(f"Acme {i},fine\n" for i in range(30))
    path = write(tmp_path, "Company,Note\n" + fine + 'Bolt,"never closed\nmore\n')
    source = sniff(path)
    read_before: list[str] = []

    with pytest.raises(CsvProblem) as caught:
        for row in rows(source):
            read_before.append(row.values["Company"])

    assert len(read_before) == 30
    assert str(caught.value) == (
        f"{path}, line 32: a quote opened in the record starting here is never "
        "closed; close the quote or remove it"
    )


def test_an_unterminated_quote_in_a_short_file_is_found_by_sniff(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, 'Company,Note\nAcme,fine\nBolt,"never closed\nmore\n')

    with pytest.raises(CsvProblem) as caught:
        sniff(path)

    assert str(caught.value) == (
        f"{path}, line 3: a quote opened in the record starting here is never "
        "closed; close the quote or remove it"
    )


def test_an_unterminated_quote_in_the_header_is_found_by_sniff(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, 'Company,"Note\nAcme,x\n')

    with pytest.raises(CsvProblem) as caught:
        sniff(path)

    assert caught.value.line == 1
    assert "never closed" in str(caught.value)


def test_an_escaped_quote_before_the_end_is_not_unterminated(tmp_path: Path) -> None:
    path = write(tmp_path, 'Company,Note\nAcme,"ends with ""\n"""\n')

    assert read(path)[0].values["Note"] == 'ends with "\n"'


def test_a_runaway_quote_is_stopped_by_the_cell_size_limit(tmp_path: Path) -> None:
    filler = "word " * 20 + "\n"
    body = 'Acme,"runaway\n' + filler * 2000 + 'Bolt,"x"\n' * 10
    path = write(tmp_path, "Company,Note\nZed,ok\n" + body)
    limit = csv.field_size_limit()
    assert problem(path) == (
        f"{path}, line 3: a cell in the record starting here is longer than "
        f"{limit} characters, which usually means a quote that is never closed; "
        "check the quotes from this line on"
    )


# Footers

FOOTER_HEADER = "Company,Email,Owner,Leads,Amount\n"


def footer_check(tmp_path: Path, line: str) -> bool:
    path = write(tmp_path, FOOTER_HEADER + "Acme,a@x.io,Sam,1,100\n" + line + "\n")
    source = sniff(path)
    return csvfile.looks_like_footer(source, list(rows(source))[-1])


@pytest.mark.parametrize(
    "line",
    [
        "Total,,,2,200",
        "TOTALS:,,,2,200",
        "Grand Total,,,2,$1,200.00",
        "Subtotal,,,2,",
        "Sum,,,,200",
        "Count: 2,,,,",
        "Total leads: 123,,,,",
        ",,,Total,200",
        '"Total: 1,204",,,,',
    ],
)
def test_a_totals_row_is_a_footer(tmp_path: Path, line: str) -> None:
    assert footer_check(tmp_path, line)


@pytest.mark.parametrize(
    "line",
    [
        "Total Gym Ltd,info@totalgym.example,Sam,1,100",
        "Total Gym Ltd,,,,",
        "Total Gym,,Kim,,",
        "Sum,sum@example.com,,,",
        "Count,,Lee,,",
        "Totally Fit,,,,",
        "Acme,a@x.io,Sam,1,100",
        ",,,,",
        "Total,,Sam,2,200",
    ],
)
def test_a_lead_is_not_a_footer(tmp_path: Path, line: str) -> None:
    assert not footer_check(tmp_path, line)


def test_a_wide_footer_may_carry_one_note(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(11))
    path = write(tmp_path, f"{header}\nTotal,generated 2021-04-15,,,,,,,,,9\n")
    source = sniff(path)

    assert csvfile.looks_like_footer(source, list(rows(source))[0])


def test_the_zoho_leads_export_has_no_footer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ZOHO_HEADER
        + '4563,Denson,Total Gym Ltd,g@cuvox.de,Cold Call,"15 Apr, 2021 00:03:00"\n'
        + "Total,,,,,\n",
    )
    source = sniff(path)

    assert [csvfile.looks_like_footer(source, row) for row in rows(source)] == [
        False,
        True,
    ]


# Round trips

NAMES = st.lists(
    st.text(alphabet="abcdefghij XYZ", min_size=1, max_size=8).map(str.strip),
    min_size=2,
    max_size=6,
    unique=True,
).filter(lambda names: all(names))
CELL = st.text(
    alphabet=st.sampled_from(list("ab ,;\t\"\n\r'xé€1")),
    max_size=10,
)
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=NAMES,
    delimiter=st.sampled_from(csvfile.DELIMITERS),
    bom=st.booleans(),
    cells=st.lists(st.lists(CELL, min_size=6, max_size=6), max_size=12),
)
def test_a_table_written_by_csv_writer_is_read_back_the_same(
    tmp_path: Path,
    names: list[str],
    delimiter: str,
    bom: bool,
    cells: list[list[str]],
) -> None:
    # The first cell names the row, so no row is blank and skipped.
    table = [[f"r{i}", *row[: len(names) - 1]] for i, row in enumerate(cells)]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerow(names)
    starts = []
    for record in table:
        starts.append(1 + len(LINE_BREAK.findall(buffer.getvalue())))
        csv.writer(buffer, delimiter=delimiter).writerow(record)
    path = write(tmp_path, ("\ufeff" if bom else "") + buffer.getvalue())

    source = sniff(path)
    found = list(rows(source))

    assert source.encoding == ("utf-8-sig" if bom else "utf-8")
    assert source.delimiter == delimiter
    assert source.header == tuple(names)
    assert [list(row.values.values()) for row in found] == table
    assert [row.line for row in found] == starts
    assert [row.number for row in found] == list(range(1, len(table) + 1))


# The public exports


@pytest.mark.parametrize(
    ("parts", "columns", "count"),
    [
        (("zoho_crm_sample", "Leads.csv"), 13, 3900),
        (("zoho_crm_sample", "Potentials.csv"), 20, 3632),
        (("olist_marketing_funnel", "olist_closed_deals_dataset.csv"), 14, 842),
        (("maven_crm_sales_opportunities", "sales_pipeline.csv"), 8, 8800),
    ],
)
def test_the_public_crm_exports_are_read_whole(
    parts: tuple[str, ...], columns: int, count: int
) -> None:
    source = sniff(shared_file(*parts))
    found = list(rows(source))

    assert (source.encoding, source.delimiter) == ("utf-8", ",")
    assert len(source.header) == columns
    assert len(found) == count
    assert not any(row.extra for row in found)
    assert not any(csvfile.looks_like_footer(source, row) for row in found)


def test_a_trailing_delimiter_on_the_header_names_no_column(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,City,Email,\nAcme,Berlin,a@x.io,\n")

    source = sniff(path)

    assert source.header == ("Company", "City", "Email")
    assert [row.values["Email"] for row in rows(source)] == ["a@x.io"]


def test_empty_cells_past_the_last_column_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "Company,Email\nAcme,a@x.io,, \nBeta,b@x.io,late\n")

    found = read(path)

    assert [row.extra for row in found] == [(), ("late",)]


def test_an_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = write(
        tmp_path, "sep=;\r\nCompany;City\r\nAcme, Inc;Berlin\r\n\r\nBeta;Rome\r\n"
    )

    source = sniff(path)
    found = list(rows(source))

    assert (source.delimiter, source.header) == (";", ("Company", "City"))
    assert [(row.line, row.values["Company"]) for row in found] == [
        (3, "Acme, Inc"),
        (5, "Beta"),
    ]


def test_a_problem_after_a_sep_line_has_the_files_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, 'sep=,\nCompany,City\nAcme,"Berlin\n')

    assert problem(path).startswith(f"{path}, line 3: a quote opened")


def test_a_file_of_only_a_sep_line_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sep=;\n")

    assert "only its sep= line" in problem(path)
