"""The `leadrelay` command as a person runs it: a process, a workspace, SQLite."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from contextlib import closing
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

#: The pulse's top-level keys, as docs/json.md lists them.
PULSE_KEYS = {
    "week",
    "starts",
    "ends",
    "timezone",
    "as_of",
    "contract",
    "leads_in",
    "sla",
    "qualified",
    "won",
    "lost",
    "objections",
    "stalled",
    "decision",
}


def leadrelay(
    *args: str, workspace: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    # The SQLite default: no database URL from the environment the tests run in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env["LEADRELAY_WORKSPACE"] = str(workspace)
    return subprocess.run(
        [sys.executable, "-m", "leadrelay.cli", *args],
        cwd=cwd or workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("init")
    folder = root / "acme"
    done = leadrelay("init", str(folder), workspace=root, cwd=root)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture
def workspace(initialised: Path, tmp_path: Path) -> Path:
    """A fresh copy of a workspace `leadrelay init` made."""
    return Path(shutil.copytree(initialised, tmp_path / "acme"))


def test_init_writes_the_contract_and_a_database_in_wal_mode(tmp_path: Path) -> None:
    target = tmp_path / "acme"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = leadrelay("init", str(target), workspace=elsewhere, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert (target / "funnel.toml").is_file()
    assert tomllib.loads((target / "funnel.toml").read_text(encoding="utf-8"))["stages"]
    database = target / "leadrelay.sqlite3"
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert "leadrelay_lead" in tables
    assert list(elsewhere.iterdir()) == []
    assert str(target / "funnel.toml") in done.stdout


def test_init_keeps_an_existing_contract(workspace: Path) -> None:
    contract = workspace / "funnel.toml"
    contract.write_text(contract.read_text().replace("Our funnel", "Acme funnel"))

    done = leadrelay("init", str(workspace), workspace=workspace)

    assert done.returncode == 0, done.stderr
    assert "Acme funnel" in contract.read_text()
    assert "keeping it" in done.stdout


def test_contract_check_passes_the_default_contract(workspace: Path) -> None:
    done = leadrelay("contract", "check", workspace=workspace)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")


def test_contract_check_refuses_a_broken_contract_with_exit_2_and_its_problems(
    workspace: Path,
) -> None:
    contract = workspace / "funnel.toml"
    text = contract.read_text(encoding="utf-8")
    text = text.replace('timezone = "UTC"', 'timezone = "UTC"\ncolour = "red"', 1)
    text = text.replace("within_hours = 24", "within_hours = -1", 1)
    contract.write_text(text, encoding="utf-8")

    done = leadrelay("contract", "check", workspace=workspace)

    assert done.returncode == 2
    assert "2 problems" in done.stderr
    assert 'funnel.colour: unknown key "colour"' in done.stderr
    assert "sla[0].within_hours" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_contract_show_in_markdown_names_every_stage(workspace: Path) -> None:
    stages = tomllib.loads((workspace / "funnel.toml").read_text())["stages"]

    done = leadrelay("contract", "show", "--format", "markdown", workspace=workspace)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# ")
    for stage in stages:
        assert f"| {stage['label']} |" in done.stdout


def test_pulse_after_an_import_prints_the_documented_keys(workspace: Path) -> None:
    leads = workspace / "leads.csv"
    leads.write_text(
        "mql_id,first_contact_date,landing_page_id,origin\n"
        "a,2018-03-05,lp,social\n"
        "b,2018-03-11,lp,\n"
        "c,2018-03-12,lp,social\n"
        "d,2018-02-28,lp,email\n",
        encoding="utf-8",
    )
    imported = leadrelay("import", str(leads), "--preset", "olist", workspace=workspace)
    assert imported.returncode == 0, imported.stderr

    done = leadrelay(
        "pulse", "--week", "2018-W10", "--format", "json", workspace=workspace
    )

    assert done.returncode == 0, done.stderr
    pulse = json.loads(done.stdout)
    assert PULSE_KEYS <= set(pulse)
    assert pulse["week"] == "2018-W10"
    assert (pulse["starts"], pulse["ends"]) == (
        "2018-03-05T00:00:00+00:00",
        "2018-03-12T00:00:00+00:00",
    )
    assert (pulse["leads_in"]["total"], pulse["leads_in"]["previous"]) == (2, 1)
    assert {r["source"]: r["count"] for r in pulse["leads_in"]["by_source"]} == {
        "social": 1,
        None: 1,
        "email": 0,
    }
    assert pulse["sla"]["unknown"] == 2


def test_pulse_refuses_a_week_that_is_not_an_iso_week(workspace: Path) -> None:
    done = leadrelay("pulse", "--week", "nonsense", workspace=workspace)

    assert done.returncode == 2
    assert '"nonsense" is not an ISO week' in done.stderr
    assert "2018-W10" in done.stderr
    assert "Traceback" not in done.stderr


def test_pulse_refuses_a_week_the_year_does_not_have(workspace: Path) -> None:
    done = leadrelay("pulse", "--week", "2018-W53", workspace=workspace)

    assert done.returncode == 2
    assert "2018 has no week 53" in done.stderr
