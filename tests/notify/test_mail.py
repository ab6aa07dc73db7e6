"""Email through Django's SMTP backend, to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadrelay.models import Notification
from leadrelay.notify import deliver
from leadrelay.notify.mail import message_id

from .servers import Mailbox

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 30, 13, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def recorded(address: str = "sam@example.com", **more: Any) -> Notification:
    note = deliver.new(
        key=f"mail:{Notification.objects.count()}",
        kind="breach",
        channel="email",
        recipient="sam",
        address=address,
        subject="SLA breached: First outreach for Ana Lima",
        body="First outreach for Ana Lima was due.\n",
        now=NOW,
        worker="w",
        lease=LEASE,
        **more,
    )
    note.save()
    return note


def send(*notes: Notification) -> deliver.Delivered:
    return deliver.send_claimed([n.pk for n in notes], "w", lambda: NOW, LEASE)


def test_an_email_arrives_with_its_own_message_id(
    mailbox: Mailbox, settings: Any
) -> None:
    settings.DEFAULT_FROM_EMAIL = "alerts@crm.example.com"
    note = recorded()

    done = send(note)

    [message] = mailbox.to("sam@example.com")
    assert done.sent == 1
    assert message["From"] == "alerts@crm.example.com"
    assert message["Subject"] == "SLA breached: First outreach for Ana Lima"
    assert (
        message["Message-ID"] == f"<leadrelay-notification-{note.pk}@crm.example.com>"
    )
    assert message["Message-ID"] == message_id(note)
    assert message["X-Leadrelay-Kind"] == "breach"
    note.refresh_from_db()
    assert (note.status, note.attempts, note.sent_at) == ("sent", 1, NOW)


def test_several_emails_go_over_one_connection(mailbox: Mailbox) -> None:
    notes = [recorded(f"p{i}@example.com") for i in range(5)]

    done = send(*notes)

    assert done.sent == 5
    assert len(mailbox.messages) == 5


def test_an_html_email_has_a_plain_text_part_too(mailbox: Mailbox) -> None:
    send(recorded(html="<p>Pulse</p>"))

    [message] = mailbox.messages
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "text/html"]


def test_a_person_without_an_email_address_fails_at_once_and_says_why(
    mailbox: Mailbox,
) -> None:
    note = recorded(address="")

    done = send(note)

    note.refresh_from_db()
    assert done.failed == 1
    assert note.status == "failed"
    assert note.error == "sam has no email address; add one to the account"
    assert mailbox.messages == []


def test_an_smtp_server_that_is_down_is_tried_again_later(settings: Any) -> None:
    # A port this test holds without listening on it: connecting is refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = closed.getsockname()[1]
        settings.EMAIL_USE_TLS = False
        note = recorded()

        done = send(note)

    note.refresh_from_db()
    assert done.retrying == 1
    assert note.status == "pending"
    assert note.claimed_by == "" and note.claimed_until == NOW + timedelta(seconds=60)
    assert note.error.startswith("SMTP: ")
