"""`leadrelay createuser` and `leadrelay serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from leadrelay.management.commands.serve import parse_address

LEADRELAY = Path(sys.executable).with_name("leadrelay")


@pytest.mark.django_db
def test_createuser_makes_an_account_with_its_roles(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command(
        "createuser",
        "lee",
        "--role",
        "sales",
        "--role",
        "admin",
        "--password",
        "a long pass 77",
    )

    lee = User.objects.get(username="lee")
    assert lee.check_password("a long pass 77")
    assert sorted(lee.groups.values_list("name", flat=True)) == ["admin", "sales"]
    assert "made lee (sales, admin)" in capsys.readouterr().out


@pytest.mark.django_db
def test_createuser_refuses_an_unknown_role_with_exit_code_2() -> None:
    with pytest.raises(CommandError) as refused:
        call_command(
            "createuser", "lee", "--role", "boss", "--password", "a long pass 77"
        )

    assert refused.value.returncode == 2
    assert (
        str(refused.value)
        == 'unknown role "boss": a role is one of marketing, sales, admin'
    )
    assert not User.objects.filter(username="lee").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("sam", "a long pass 77", 'a username nobody has ("sam" is taken)'),
        ("lee", "short", "a stronger password (This password is too short."),
        ("l e", "a long pass 77", "a username of letters, digits and . _ - @ + only"),
    ],
)
def test_createuser_says_what_is_wrong_with_the_account(
    username: str, password: str, reason: str
) -> None:
    User.objects.create_user("sam")

    with pytest.raises(CommandError) as refused:
        call_command("createuser", username, "--role", "sales", "--password", password)

    assert refused.value.returncode == 2
    assert reason in str(refused.value)


def _workspace(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["LEADRELAY_WORKSPACE"] = str(tmp_path)
    env.pop("LEADRELAY_DATABASE_URL", None)
    return env


def test_the_command_line_exits_2_on_a_bad_role(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(LEADRELAY), "createuser", "lee", "--role", "boss", "--password", "x"],
        env=_workspace(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.strip() == (
        'leadrelay createuser: unknown role "boss": '
        "a role is one of marketing, sales, admin"
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("8001", ("127.0.0.1", 8001)),
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("[::1]:9000", ("[::1]", 9000)),
    ],
)
def test_serve_reads_a_port_or_a_host_and_port(
    text: str, address: tuple[str, int]
) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["localhost:", "eighty", "127.0.0.1:99999"])
def test_serve_refuses_an_address_it_cannot_read(text: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse_address(text)

    assert refused.value.returncode == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_migrates_the_workspace_and_answers_on_loopback(tmp_path: Path) -> None:
    env = _workspace(tmp_path)
    subprocess.run(
        [str(LEADRELAY), "init", str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [str(LEADRELAY), "serve", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/signin/", timeout=5
                ) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.2)

        assert "<h1>Sign in</h1>" in page
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/leadrelay/app.css", timeout=5
        ) as r:
            assert r.status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]

    assert f"serving on http://127.0.0.1:{port}/" in output
