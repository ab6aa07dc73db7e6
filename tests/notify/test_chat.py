"""The chat webhook: retries for what is worth retrying, none for the rest, no private hosts."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadrelay.env import PRIVATE_NETWORKS
from leadrelay.models import Delivery, Notification
from leadrelay.notify import chat, deliver

from .servers import Hook

PAYLOAD = {"text": "hello", "blocks": []}
NOW = datetime(2026, 3, 30, 13, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def post(hook: Hook, path: str = "/hook", **kwargs: Any) -> chat.Outcome:
    options: dict[str, Any] = {
        "timeout": 0.3,
        "attempts": 3,
        "backoff": 0.01,
        "allowed": ("127.0.0.1/32",),
    }
    options.update(kwargs)
    return chat.post(hook.url(path), PAYLOAD, **options)


def test_a_200_is_sent_at_the_first_try(hook: Hook) -> None:
    outcome = post(hook)

    assert outcome == chat.Outcome(True, 1)
    assert hook.bodies() == [PAYLOAD]


def test_a_500_is_tried_again_and_the_second_answer_counts(hook: Hook) -> None:
    hook.script["/hook"] = [500]

    outcome = post(hook)

    assert outcome == chat.Outcome(True, 2)
    assert len(hook.bodies()) == 2


def test_a_server_that_does_not_answer_in_time_is_tried_each_time_then_given_up(
    hook: Hook,
) -> None:
    hook.script["/hook"] = ["timeout", "timeout", "timeout"]
    pauses: list[float] = []

    outcome = post(hook, sleep=pauses.append)

    assert not outcome.ok and outcome.retryable
    assert outcome.tries == 3
    assert outcome.error == (
        "3 tries: no answer within 0.3 s; no answer within 0.3 s; "
        "no answer within 0.3 s"
    )
    assert pauses == [0.01, 0.02]
    assert len(hook.bodies()) == 3


def test_a_410_means_the_webhook_is_gone_and_is_not_tried_again(hook: Hook) -> None:
    hook.script["/hook"] = [410]

    outcome = post(hook)

    assert outcome == chat.Outcome(False, 1, "1 try: HTTP 410", retryable=False)
    assert len(hook.bodies()) == 1


def test_other_4xx_answers_are_final_too(hook: Hook) -> None:
    hook.script["/hook"] = [400]

    assert post(hook).tries == 1


def test_a_redirect_is_not_followed(hook: Hook) -> None:
    hook.script["/hook"] = [302]

    outcome = post(hook)

    assert not outcome.ok and not outcome.retryable
    assert outcome.error == "1 try: HTTP 302"


def test_a_refused_connection_is_worth_another_try() -> None:
    # A port this test holds without listening on it: connecting is refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"

        outcome = chat.post(
            url, PAYLOAD, timeout=0.3, attempts=2, backoff=0.0, allowed=("127.0.0.1",)
        )

    assert not outcome.ok and outcome.retryable and outcome.tries == 2
    assert outcome.error.startswith("2 tries: connection failed")


# -- private addresses ----------------------------------------------------------------


def test_a_loopback_webhook_is_refused_unless_allowed(hook: Hook) -> None:
    outcome = post(hook, allowed=())

    assert not outcome.ok and not outcome.retryable
    assert outcome.error == (
        "the webhook host 127.0.0.1 resolves to 127.0.0.1, a private address; set "
        "LEADRELAY_ALLOW_PRIVATE_WEBHOOKS to that address or network to allow it"
    )
    assert hook.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://192.168.0.7:8080/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest",
        "http://localhost/hook",
    ],
)
def test_private_loopback_and_link_local_hosts_are_refused(url: str) -> None:
    with pytest.raises(chat.Refused):
        chat.vetted_address(url, ())


def test_allowing_private_networks_still_refuses_link_local_ones() -> None:
    assert chat.vetted_address("http://10.1.2.3/hook", PRIVATE_NETWORKS) == "10.1.2.3"
    with pytest.raises(chat.Refused):
        chat.vetted_address("http://169.254.169.254/latest", PRIVATE_NETWORKS)


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(chat.Refused, match="an http"):
        chat.vetted_address("ftp://example.com/hook", ())


# -- recorded outcomes ----------------------------------------------------------------


def recorded(hook: Hook, worker: str = "w") -> Notification:
    note = deliver.new(
        key=f"test:{len(Notification.objects.all())}",
        kind="breach",
        channel="chat",
        recipient="sam",
        address="default",
        subject="SLA breached",
        body="text",
        now=NOW,
        worker=worker,
        lease=LEASE,
        payload=PAYLOAD,
    )
    note.save()
    return note


@pytest.mark.django_db
def test_each_delivery_records_its_outcome(hook: Hook) -> None:
    hook.script["/hook"] = [200, 500, 200, 410]
    ok, retried, gone = recorded(hook), recorded(hook), recorded(hook)

    done = deliver.send_claimed([ok.pk, retried.pk, gone.pk], "w", lambda: NOW, LEASE)

    assert (done.sent, done.failed) == (2, 1)
    ok.refresh_from_db()
    retried.refresh_from_db()
    gone.refresh_from_db()
    assert (ok.status, ok.attempts, ok.error) == ("sent", 1, "")
    assert ok.sent_at == NOW and ok.claimed_by == ""
    assert (retried.status, retried.error) == ("sent", "")
    assert (gone.status, gone.error) == ("failed", "1 try: HTTP 410")


@pytest.mark.django_db
def test_a_webhook_that_keeps_timing_out_is_retried_later_then_marked_failed(
    hook: Hook, settings: Any
) -> None:
    hook.script["/hook"] = ["timeout"] * 9
    note = recorded(hook)

    first = deliver.send_claimed([note.pk], "w", lambda: NOW, LEASE)
    note.refresh_from_db()
    waiting = (note.status, note.attempts, note.claimed_until)
    Notification.objects.filter(pk=note.pk).update(claimed_by="w")
    deliver.send_claimed([note.pk], "w", lambda: NOW, LEASE)
    Notification.objects.filter(pk=note.pk).update(claimed_by="w")
    last = deliver.send_claimed([note.pk], "w", lambda: NOW, LEASE)

    note.refresh_from_db()
    assert first.retrying == 1
    assert waiting == ("pending", 1, NOW + timedelta(seconds=60))
    assert last.failed == 1
    assert (note.status, note.attempts) == ("failed", settings.NOTIFY_MAX_ROUNDS)
    assert note.error.startswith("3 tries: no answer within 0.3 s")
    assert len(hook.bodies()) == 9
    assert Notification.objects.filter(status=Delivery.FAILED).count() == 1


@pytest.mark.django_db
def test_a_notification_another_worker_holds_is_not_sent(hook: Hook) -> None:
    note = recorded(hook, worker="other")

    done = deliver.send_claimed([note.pk], "w", lambda: NOW, LEASE)

    assert not done
    assert hook.requests == []
