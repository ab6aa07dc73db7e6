"""`leadrelay worker` and the worker `leadrelay serve` runs, as processes on SQLite files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadrelay import env
from notify.fixtures import contract_text
from notify.servers import Mailbox, free_port, smtp_server

LEADRELAY = str(Path(sys.executable).parent / "leadrelay")
SEED = Path(__file__).with_name("seed_workers.py")


@pytest.fixture
def mailbox_port() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as found:
        yield found


def workspace(tmp_path: Path, port: int, leads: int = 0) -> dict[str, str]:
    (tmp_path / "funnel.toml").write_text(contract_text(), encoding="utf-8")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LEADRELAY_")
    }
    environment.update(
        {
            "LEADRELAY_WORKSPACE": str(tmp_path),
            "LEADRELAY_SMTP_HOST": "127.0.0.1",
            "LEADRELAY_SMTP_PORT": str(port),
            "LEADRELAY_SMTP_TLS": "off",
            "DJANGO_SETTINGS_MODULE": "leadrelay.settings",
        }
    )
    done = subprocess.run(
        [LEADRELAY, "migrate", "-v", "0"], env=environment, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    if leads:
        # Handed off long before the test's real time: all breached already.
        done = subprocess.run(
            [sys.executable, str(SEED), str(leads), "2026-03-27T15:00:00+01:00"],
            env=environment,
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr
    return environment


def test_worker_once_sends_what_is_due_and_prints_one_line_a_tick(
    tmp_path: Path, mailbox_port: tuple[Mailbox, int]
) -> None:
    box, port = mailbox_port
    environment = workspace(tmp_path, port, leads=3)

    done = subprocess.run(
        [LEADRELAY, "worker", "--once", "--now", "2026-03-30T15:00:00+02:00"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    first, *ticks = done.stdout.splitlines()
    assert first.startswith("leadrelay worker ") and "email by 127.0.0.1" in first
    assert ticks == ["2026-03-30 13:00:00 3 breaches, sent 3"]
    assert len(box.to("sam@example.com")) == 3


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_worker_cleanly(
    tmp_path: Path, mailbox_port: tuple[Mailbox, int], how: signal.Signals
) -> None:
    environment = workspace(tmp_path, mailbox_port[1])
    process = subprocess.Popen(
        [LEADRELAY, "worker", "--interval", "0.1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()

    process.send_signal(how)
    out, err = process.communicate(timeout=30)

    assert first.startswith("leadrelay worker ")
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_a_moment_without_its_offset_is_refused(
    tmp_path: Path, mailbox_port: tuple[Mailbox, int]
) -> None:
    environment = workspace(tmp_path, mailbox_port[1])

    done = subprocess.run(
        [LEADRELAY, "worker", "--once", "--now", "2026-03-30T15:00"],
        env=environment,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 2
    assert done.stderr == (
        'leadrelay worker: --now "2026-03-30T15:00" is not a moment with its UTC '
        "offset; write it as 2026-03-30T15:00+02:00\n"
    )


def test_serve_runs_a_worker_that_sends_the_alerts(
    tmp_path: Path, mailbox_port: tuple[Mailbox, int]
) -> None:
    box, port = mailbox_port
    environment = workspace(tmp_path, port, leads=2)
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [LEADRELAY, "serve", address],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Breached and escalated long ago: the owner's alerts and the team lead's.
        box.wait_for(4, seconds=60)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert "the SLA worker runs in this process" in out
    assert len(box.to("sam@example.com")) == 2
    assert len(box.to("kim@example.com")) == 2


def test_serve_with_no_worker_sends_nothing(
    tmp_path: Path, mailbox_port: tuple[Mailbox, int]
) -> None:
    box, port = mailbox_port
    environment = workspace(tmp_path, port, leads=1)
    process = subprocess.Popen(
        [LEADRELAY, "serve", f"127.0.0.1:{free_port()}", "--no-worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(3)]
    box.wait_for(1, seconds=2)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)

    assert lines[1].startswith("serving on http://127.0.0.1:")
    assert "SLA worker" not in "".join(lines) + out
    assert box.messages == []


# -- the settings they read ------------------------------------------------------------


def test_smtp_and_webhook_settings_are_checked_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADRELAY_SMTP_PORT", "99999")
    monkeypatch.setenv("LEADRELAY_SMTP_TLS", "maybe")
    monkeypatch.setenv("LEADRELAY_CHAT_WEBHOOK_URL", "hooks.slack.com/x")
    monkeypatch.setenv("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS", "127.0.0.1,not-a-network")

    with pytest.raises(env.SettingError, match="from 1 to 65535"):
        env.integer("LEADRELAY_SMTP_PORT", 587, 1, 65535)
    with pytest.raises(env.SettingError, match="use starttls"):
        env.smtp_tls("LEADRELAY_SMTP_TLS")
    with pytest.raises(env.SettingError, match="not an http"):
        env.http_url("LEADRELAY_CHAT_WEBHOOK_URL", "https://hooks.example.com/x")
    with pytest.raises(env.SettingError, match="'not-a-network' is not an address"):
        env.networks("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS")


def test_allowing_private_webhooks_names_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS", "127.0.0.1, 10.0.0.0/8")
    listed = env.networks("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS")
    monkeypatch.setenv("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS", "1")
    allowed = env.networks("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS")
    monkeypatch.setenv("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS", "0")

    assert listed == ("127.0.0.1/32", "10.0.0.0/8")
    assert "127.0.0.0/8" in allowed and "169.254.0.0/16" not in allowed
    assert env.networks("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS") == ()
