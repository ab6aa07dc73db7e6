"""The `leadrelay` command refusing what it cannot use, in one line and an exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadrelay.contract import default_text

pytestmark = [pytest.mark.slow]


def leadrelay(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    return subprocess.run(
        [sys.executable, "-m", "leadrelay.cli", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "funnel.toml").write_text(default_text(), encoding="utf-8")
    return folder


def test_a_database_that_cannot_be_opened_is_one_line_and_exit_1(
    workspace: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/missing-dir/x.sqlite3"

    done = leadrelay(
        "pulse",
        cwd=workspace,
        LEADRELAY_WORKSPACE=str(workspace),
        LEADRELAY_DATABASE_URL=url,
    )

    assert done.returncode == 1
    assert done.stderr.startswith("leadrelay pulse: cannot use the database (")
    assert "check LEADRELAY_DATABASE_URL (or the workspace folder)" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_init_refuses_a_file_named_as_its_folder(tmp_path: Path) -> None:
    existing = tmp_path / "leads.csv"
    existing.write_text("Company\nAcme\n", encoding="utf-8")

    done = leadrelay("init", str(existing), cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr == f"leadrelay init: {existing} is a file; name a folder\n"
    assert existing.read_text(encoding="utf-8") == "Company\nAcme\n"


def test_decisions_outside_a_workspace_refuses_before_making_a_database(
    tmp_path: Path,
) -> None:
    done = leadrelay("decisions", cwd=tmp_path)

    assert done.returncode == 2
    assert "funnel.toml" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_says_a_folder_is_a_folder(workspace: Path) -> None:
    done = import_file(workspace, workspace)

    assert done.returncode == 2
    assert f"{workspace}: is a folder" in done.stderr


@pytest.mark.parametrize("make", ["dev_null", "fifo"])
def test_import_says_a_special_file_is_not_a_regular_file(
    workspace: Path, make: str
) -> None:
    if make == "fifo":
        path = workspace / "leads.csv"
        os.mkfifo(path)
    else:
        path = Path(os.devnull)

    done = import_file(workspace, path)

    assert done.returncode == 2
    assert f"{path}: is not a regular file" in done.stderr


def test_import_says_a_missing_file_is_missing(workspace: Path) -> None:
    path = workspace / "absent.csv"

    done = import_file(workspace, path)

    assert done.returncode == 2
    assert f"{path}: no such file" in done.stderr


def import_file(workspace: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return leadrelay(
        "import",
        str(path),
        "--preset",
        "olist",
        cwd=workspace,
        LEADRELAY_WORKSPACE=str(workspace),
    )
