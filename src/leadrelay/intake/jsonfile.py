"""Read JSON record exports as tables, one record a row.

Two shapes are read: an object with a "records" list, as the Salesforce CLI's
`sf data tree export` writes it, and a plain list of objects. Each record
becomes a row whose columns are its keys:

- the Salesforce `attributes` object gives the columns "type" and
  "referenceId"; any other key in it becomes "attributes.KEY";
- any other nested object is flattened with dots ("Account.Name");
- a list is kept as its JSON text;
- numbers keep their text as written, true and false become "true" and
  "false", and null becomes "".

These exports are small, so the whole file is loaded at once; `rows`
loads it again each time it is called rather than holding it in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leadrelay.intake.csvfile import CsvProblem, CsvSource, Row

#: The encoding name a JSON source carries, so readers know not to use csv.
ENCODING = "json"

#: Keys of the Salesforce `attributes` object that become plain columns.
_ATTRIBUTE_COLUMNS = ("type", "referenceId")


class JsonProblem(CsvProblem):
    """A file that cannot be read as JSON records.

    A kind of `CsvProblem` (a file that cannot be read as a table), so a
    caller that handles those handles this too. `str()` names the file, and
    the line and column when known, and says what to do.
    """


class _Number(str):
    """A JSON number, kept as the text the file has."""


def sniff(path: Path | str) -> CsvSource:
    """Read `path` and return its columns, or raise `JsonProblem` saying why not.

    The header is every key of every record, in the order first seen.
    """
    path = Path(path)
    header: dict[str, None] = {}
    for record in _records(path):
        header.update(dict.fromkeys(record))

    if not header:
        raise JsonProblem(
            path,
            "the records have no fields, so there is nothing to import; "
            "export the records with their fields",
        )

    return CsvSource(path=path, encoding=ENCODING, delimiter="", header=tuple(header))


def rows(source: CsvSource) -> Iterator[Row]:
    """Yield each record as a row; a field a record lacks is ""."""
    for number, record in enumerate(_records(source.path), start=1):
        values = {column: record.get(column, "") for column in source.header}
        yield Row(number=number, line=number, values=values)


def _records(path: Path) -> list[dict[str, str]]:
    data = _load(path)
    if isinstance(data, dict):
        if "records" not in data:
            found = ", ".join(f'"{key}"' for key in list(data)[:8]) or "none"
            raise JsonProblem(
                path,
                f'the file is a JSON object without a "records" list (its keys: '
                f"{found}); export the records with `sf data tree export`, or "
                "save them as a list of objects",
            )
        data = data["records"]
        if not isinstance(data, list):
            raise JsonProblem(
                path,
                f'"records" is {_kind(data)}, not a list; '
                "it should hold one object per record",
            )
    elif not isinstance(data, list):
        raise JsonProblem(
            path,
            f"the file holds {_kind(data)}, not records; it should be a list of "
            'objects, or an object with a "records" list',
        )

    if not data:
        raise JsonProblem(
            path,
            "the records list is empty, so there is nothing to import; "
            "leave the file out or export it again",
        )

    flat = []
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise JsonProblem(
                path,
                f"record {index} is {_kind(record)}, not an object; each record "
                "should be an object of field names and values",
            )
        flat.append(_flatten(record))

    return flat


def _load(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise JsonProblem(path, "no such file; check the path") from None
    except IsADirectoryError:
        raise JsonProblem(
            path, "this is a folder; give the path of a JSON file"
        ) from None
    except OSError as exc:
        raise JsonProblem(path, f"the file cannot be read ({exc.strerror})") from None

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # JSON files are UTF-8 by definition (RFC 8259), so there is no
        # other encoding to try.
        raise JsonProblem(
            path,
            "the file is not UTF-8 text; export it again as UTF-8 JSON",
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None

    if not text.strip():
        raise JsonProblem(path, "the file is empty")

    try:
        return json.loads(text, parse_int=_Number, parse_float=_Number)
    except json.JSONDecodeError as exc:
        raise JsonProblem(
            path,
            f"not valid JSON ({exc.msg}); check the file, or export it again",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except (RecursionError, MemoryError):
        raise JsonProblem(
            path,
            "the file is nested too deeply to be a record export; "
            "export the records again as a list of objects",
        ) from None


def _flatten(record: dict[str, Any]) -> dict[str, str]:
    """Return a record's fields as columns and text; a later key of one name wins."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        if key == "attributes" and isinstance(value, dict):
            for name, item in value.items():
                column = name if name in _ATTRIBUTE_COLUMNS else f"attributes.{name}"
                _put(flat, column, item)
        else:
            _put(flat, key, value)

    return flat


def _put(flat: dict[str, str], column: str, value: Any) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _put(flat, f"{column}.{key}", item)
    else:
        flat[column] = _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""

    if isinstance(value, bool):
        return "true" if value else "false"

    if isinstance(value, str):
        return str(value)

    if value == {}:
        return ""

    return _json_text(value)


def _json_text(value: Any) -> str:
    """Write `value` back as JSON, numbers as the file had them."""
    if isinstance(value, _Number):
        return str(value)

    if isinstance(value, list):
        return "[" + ", ".join(_json_text(item) for item in value) + "]"

    if isinstance(value, dict):
        items = (
            f"{json.dumps(k, ensure_ascii=False)}: {_json_text(v)}"
            for k, v in value.items()
        )
        return "{" + ", ".join(items) + "}"

    return json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, _Number):
        return f"a number ({value})"

    if isinstance(value, bool):
        return str(value).lower()

    if value is None:
        return "null"

    if isinstance(value, str):
        return "a string"

    if isinstance(value, list):
        return "a list"

    return "an object"
