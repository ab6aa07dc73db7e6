"""Read CRM exports as tables, one record at a time.

`sniff` looks at a file once (its encoding, its delimiter and its header) and
`rows` then streams the records, so memory stays flat however long the file
is. Every problem that makes the whole file unusable is a `CsvProblem` that
names the file, the line and the column where it is known; a record that is
merely odd (too many cells, too few) is handed to the caller to judge.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

#: The delimiters an export may use, in the order a tie is broken.
DELIMITERS = (",", ";", "\t")

_BOM = codecs.BOM_UTF8
_CHUNK_BYTES = 1 << 20
# The header and the next twenty records are enough to tell the delimiter.
_SAMPLE_RECORDS = 21
# Bytes that Windows-1252 leaves undefined; Python refuses to decode them.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER = re.compile(r"[-+(]?\s*[$€£¥]?\s*\d[\d\s.,']*%?\)?\s*[$€£¥]?")
_FOOTER_LABEL = re.compile(
    r"(?:grand\s+total|sub-?\s?total|totals?|sum|count)"
    r"(?:\s+(?:of\s+)?(?:leads|contacts|accounts|deals|opportunities"
    r"|records|rows|entries|items))?"
    r"\s*[:=]?\s*"
    r"(?:[-+]?\s*[$€£¥]?\s*\d[\d\s.,']*%?)?",
    re.IGNORECASE,
)
_FOOTER_INITIALS = "cCgGsStT"
_NUL = (
    "the file contains a NUL byte, so it is not CSV text "
    "(it may be UTF-16 or a spreadsheet file); export it again as CSV UTF-8"
)
# Excel writes, and honours, a first line such as `sep=;` naming the delimiter.
_SEP_LINE = re.compile(r'"?sep=([^"\r\n])"?\r?\n?', re.IGNORECASE)
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}


class CsvProblem(Exception):
    """A file that cannot be read as a table.

    `str()` names the file (and the line and column when known) and says
    what to do; the parts are also kept as attributes for the caller.
    """

    def __init__(
        self,
        path: Path,
        reason: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        self.column = column
        place = str(path)
        if line is not None:
            place += f", line {line}"
        if column is not None:
            place += f", column {column}"
        super().__init__(f"{place}: {reason}")

    def __reduce__(self) -> tuple[type[CsvProblem], tuple[object, ...]]:
        return (CsvProblem, (self.path, self.reason, self.line, self.column))


@dataclass(frozen=True)
class CsvSource:
    """A file `sniff` has looked at, and how to read it."""

    path: Path
    #: "utf-8-sig", "utf-8" or "cp1252".
    encoding: str
    #: ",", ";" or "\t", or the one a `sep=` first line names.
    delimiter: str
    #: The column names, stripped of surrounding whitespace.
    header: tuple[str, ...]
    #: Whether the first line is a `sep=` line to skip before the header.
    sep_line: bool = False


@dataclass(frozen=True)
class Row:
    """One record of the table."""

    #: 1-based among the rows `rows` yields; the header and blank lines
    #: are not counted.
    number: int
    #: The physical line where the record starts (the first line of the
    #: file is 1); a record with a quoted newline spans several lines.
    line: int
    #: Column name to raw cell text; cells missing at the end are "".
    values: dict[str, str]
    #: Cells beyond the last column, which the caller should refuse.
    extra: tuple[str, ...] = ()


def sniff(path: Path | str) -> CsvSource:
    """Work out how to read `path`, or raise `CsvProblem` saying why not.

    It reads the whole file once, in chunks, to be sure of the encoding
    (and to find NUL bytes early), then only the first records.
    """
    path = Path(path)
    encoding = _detect_encoding(path)
    named = _sep_line(path, encoding)
    if named is None:
        delimiter, header_line, cells = _detect_delimiter(path, encoding)
    else:
        delimiter = named
        header_line, cells = _first_header(path, encoding, delimiter)
    header = _check_header(path, header_line, cells)

    return CsvSource(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        sep_line=named is not None,
    )


def rows(source: CsvSource) -> Iterator[Row]:
    """Yield the records after the header, skipping blank lines.

    A record with fewer cells than the header is padded with "", one with
    more keeps the surplus in `Row.extra`. A NUL byte, a quote that is never
    closed or bytes that are not in the source's encoding raise `CsvProblem`
    when the reading reaches them, which can be after many rows.
    """
    header = source.header
    width = len(header)
    records = _records(source.path, source.encoding, source.delimiter, source.sep_line)
    with closing(records):
        if next(records, None) is None:
            return

        for number, (line, cells) in enumerate(records, start=1):
            extra: tuple[str, ...] = ()
            # A trailing delimiter leaves empty cells past the last column.
            if len(cells) > width and not _is_blank(cells[width:]):
                extra = tuple(cells[width:])
            elif len(cells) < width:
                cells.extend([""] * (width - len(cells)))

            yield Row(number, line, dict(zip(header, cells, strict=False)), extra)


def looks_like_footer(source: CsvSource, row: Row) -> bool:
    """Say whether `row` is a totals line a spreadsheet added, not a lead.

    The rule is deliberately narrow, because dropping a real lead is worse
    than rejecting a footer as a bad row:

    - the first non-empty cell is, as a whole and ignoring case, "total",
      "totals", "grand total", "subtotal", "sum" or "count", optionally
      followed by a noun such as "leads" or "records", a colon and a
      number ("Total", "Totals:", "Grand total 1,204", "Total leads: 123");
    - and every other non-empty cell is a number (currency signs, thousands
      separators and a percent sign allowed), except that one cell in ten
      may be text, for a note such as "generated 2021-04-15".

    So "Total Gym Ltd" is never a label, and a row named "Sum" with an
    email, a phone or an owner filled in is an ordinary row.
    """
    # Called on every row, so the loop stops at the first filled cell and
    # most rows are then turned away by its first character.
    label = name = ""
    for name in source.header:
        label = row.values.get(name, "").strip()
        if label:
            break

    if not label or label[0] not in _FOOTER_INITIALS:
        return False

    if not _FOOTER_LABEL.fullmatch(label):
        return False

    first = source.header.index(name)
    cells = [row.values.get(name, "") for name in source.header]
    cells.extend(row.extra)
    others = [cell.strip() for cell in cells[:first] + cells[first + 1 :]]
    texts = sum(1 for cell in others if cell and not _NUMBER.fullmatch(cell))

    return texts <= len(others) // 10


def _detect_encoding(path: Path) -> str:
    """Return "utf-8-sig", "utf-8" or "cp1252" for the bytes of `path`."""
    try:
        file = open(path, "rb")
    except OSError as exc:
        raise _unreadable(path, exc) from None

    with file:
        start = file.read(len(_BOM))
        if not start or start == _BOM and not file.read(1):
            raise CsvProblem(path, "the file is empty")

        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise CsvProblem(
                path,
                "the file is UTF-16 text; save it again as CSV UTF-8",
            )

        file.seek(0)
        return _scan_bytes(path, file, has_bom=start == _BOM)


def _scan_bytes(path: Path, file: BinaryIO, has_bom: bool) -> str:
    # One pass finds the first byte that is not UTF-8 and the first one that
    # is not Windows-1252 either; the chunking must not split a multi-byte
    # character into a false error, which the incremental decoder handles.
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    not_utf8: int | None = None
    not_cp1252: tuple[int, int] | None = None
    while chunk := file.read(_CHUNK_BYTES):
        nul = chunk.find(b"\x00")
        if nul >= 0:
            line = lines_before + chunk.count(b"\n", 0, nul) + 1
            raise CsvProblem(path, _NUL, line=line)

        if not_utf8 is None:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.object starts with at most three held-over bytes of the
                # previous chunk, none of which is a newline.
                not_utf8 = lines_before + exc.object.count(b"\n", 0, exc.start) + 1

        if not_cp1252 is None and (bad := _NOT_CP1252.search(chunk)):
            line = lines_before + chunk.count(b"\n", 0, bad.start()) + 1
            not_cp1252 = (line, chunk[bad.start()])

        lines_before += chunk.count(b"\n")

    if not_utf8 is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            not_utf8 = lines_before + 1

    if not_utf8 is None:
        return "utf-8-sig" if has_bom else "utf-8"

    if has_bom:
        raise CsvProblem(
            path,
            "the file starts as UTF-8 but has bytes here that are not UTF-8; "
            "export it again as CSV UTF-8",
            line=not_utf8,
        )

    if not_cp1252 is not None:
        line, byte = not_cp1252
        raise CsvProblem(
            path,
            f"byte 0x{byte:02x} is neither UTF-8 nor Windows-1252 text; "
            "export the file again as CSV UTF-8",
            line=line,
        )

    return "cp1252"


def _detect_delimiter(path: Path, encoding: str) -> tuple[str, int, list[str]]:
    """Return the delimiter, the header's line and the header's cells.

    A delimiter is a candidate when it splits the header into two cells or
    more. The winner is the candidate under which the most sample records
    have as many cells as the header; a tie goes to the one that splits the
    header into more cells, that is, the one found outside quotes most.
    csv.Sniffer is not used: it guesses wrong on short and irregular files.
    """
    best: tuple[int, int] | None = None
    chosen: tuple[str, int, list[str]] | None = None
    problems: list[CsvProblem] = []
    for delimiter in DELIMITERS:
        try:
            sample = _first_records(path, encoding, delimiter)
        except CsvProblem as exc:
            problems.append(exc)
            continue

        if not sample:
            raise CsvProblem(
                path,
                "the file has only blank lines, so no header; "
                "put the column names on the first line",
            )

        header_line, header = sample[0]
        if chosen is None:
            chosen = (",", header_line, header)
        if len(header) < 2:
            continue

        agreeing = sum(1 for _, cells in sample[1:] if len(cells) == len(header))
        score = (agreeing, len(header))
        if best is None or score > best:
            best = score
            chosen = (delimiter, header_line, header)

    if best is None and problems:
        raise problems[0]

    # Only a file of one column has no candidate, and then the
    # delimiter does not matter.
    assert chosen is not None
    return chosen


def _first_records(
    path: Path, encoding: str, delimiter: str, sep_line: bool = False
) -> list[tuple[int, list[str]]]:
    with closing(_records(path, encoding, delimiter, sep_line)) as records:
        return list(islice(records, _SAMPLE_RECORDS))


def _sep_line(path: Path, encoding: str) -> str | None:
    """Return the delimiter a `sep=;` first line names, if the file has one."""
    with open(path, encoding=encoding, newline="") as file:
        first = file.readline()

    match = _SEP_LINE.fullmatch(first)
    return match[1] if match else None


def _first_header(path: Path, encoding: str, delimiter: str) -> tuple[int, list[str]]:
    sample = _first_records(path, encoding, delimiter, sep_line=True)
    if not sample:
        raise CsvProblem(
            path,
            "the file has only its sep= line, so no header; "
            "put the column names on the line after it",
        )

    return sample[0]


def _check_header(path: Path, line: int, cells: list[str]) -> tuple[str, ...]:
    names = [cell.strip() for cell in cells]
    # A trailing delimiter on the header line names no column.
    while names and not names[-1]:
        names.pop()

    for column, name in enumerate(names, start=1):
        if _EMAIL.fullmatch(name):
            raise CsvProblem(
                path,
                f"the first row looks like data ('{name}'), not column names; "
                "add a header row that names the columns",
                line=line,
                column=column,
            )

    if all(_NUMBER.fullmatch(name) for name in names if name):
        raise CsvProblem(
            path,
            "the first row holds only numbers, not column names; "
            "add a header row that names the columns",
            line=line,
        )

    seen: dict[str, int] = {}
    for column, name in enumerate(names, start=1):
        if not name:
            raise CsvProblem(
                path,
                "the header has an empty column name; name the column or remove it",
                line=line,
                column=column,
            )

        if name in seen:
            raise CsvProblem(
                path,
                f"the column name '{name}' is used twice, in columns "
                f"{seen[name]} and {column}; rename one of them",
                line=line,
                column=column,
            )

        seen[name] = column

    return tuple(names)


class _EndOfFile:
    """Remembers whether the csv reader has asked past the last line."""

    reached = False


def _records(
    path: Path, encoding: str, delimiter: str, sep_line: bool = False
) -> Generator[tuple[int, list[str]], None, None]:
    """Yield the first line and the cells of each record that is not blank.

    With `sep_line`, the first line (a `sep=;` line) is skipped.
    """
    try:
        file = open(path, encoding=encoding, newline="")
    except OSError as exc:
        raise _unreadable(path, exc) from None

    with file:
        skipped = 0
        if sep_line:
            file.readline()
            skipped = 1

        end = _EndOfFile()
        lines = _lines(path, file, end, first=skipped + 1)
        reader = csv.reader(lines, delimiter=delimiter)
        start = skipped + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _bad_record(path, start, exc) from None
            except UnicodeDecodeError:
                # The decoder works ahead of the reader, so the bad byte's
                # line is found again from the bytes.
                name = _ENCODING_NAMES.get(encoding, encoding)
                raise CsvProblem(
                    path,
                    f"the text here is not {name}; export the file again as CSV UTF-8",
                    line=_undecodable_line(path, encoding),
                ) from None

            # The reader only runs off the end of the file in the middle of
            # a record when a quoted cell was never closed; in that case it
            # returns the rest of the file as that cell rather than failing.
            if end.reached:
                raise CsvProblem(
                    path,
                    "a quote opened in the record starting here is never closed; "
                    "close the quote or remove it",
                    line=start,
                )

            if not _is_blank(cells):
                yield start, cells

            start = skipped + reader.line_num + 1


def _lines(
    path: Path, file: Iterator[str], end: _EndOfFile, first: int = 1
) -> Iterator[str]:
    # The csv module in Python 3.11 and later accepts NUL, so a binary
    # file would otherwise be read as garbage instead of refused.
    for number, line in enumerate(file, start=first):
        if "\x00" in line:
            raise CsvProblem(path, _NUL, line=number)

        yield line

    end.reached = True


def _undecodable_line(path: Path, encoding: str) -> int:
    decoder = codecs.getincrementaldecoder(encoding)()
    lines_before = 0
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return lines_before + exc.object.count(b"\n", 0, exc.start) + 1

            lines_before += chunk.count(b"\n")

    return lines_before + 1


def _is_blank(cells: list[str]) -> bool:
    if cells and cells[0].strip():
        return False

    return not any(cell.strip() for cell in cells)


def _bad_record(path: Path, line: int, exc: csv.Error) -> CsvProblem:
    if "field larger than field limit" in str(exc):
        return CsvProblem(
            path,
            f"a cell in the record starting here is longer than "
            f"{csv.field_size_limit()} characters, which usually means a quote "
            "that is never closed; check the quotes from this line on",
            line=line,
        )

    return CsvProblem(
        path,
        f"the record starting here cannot be read as CSV ({exc}); check its quotes",
        line=line,
    )


def _unreadable(path: Path, exc: OSError) -> CsvProblem:
    if isinstance(exc, FileNotFoundError):
        return CsvProblem(path, "no such file; check the path")

    if isinstance(exc, IsADirectoryError):
        return CsvProblem(path, "this is a folder; give the path of a CSV file")

    return CsvProblem(path, f"the file cannot be read ({exc.strerror})")
