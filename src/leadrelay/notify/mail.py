"""Send a notification by email through Django's email backend (SMTP in production)."""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from leadrelay.notify.chat import Outcome
from leadrelay.notify.models import Notification


def message_id(notification: Notification) -> str:
    """Return the Message-ID, the same on every try of one notification.

    A message sent again after a crash can then be recognised as the same
    one by whoever reads it, and by the tests.
    """
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "leadrelay.local"
    return f"<leadrelay-{notification.message_id_token}@{domain.strip('<>')}>"


def build(notification: Notification) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.address],
        headers={
            "Message-ID": message_id(notification),
            "X-Leadrelay-Kind": notification.kind,
        },
    )
    if notification.html:
        email.attach_alternative(notification.html, "text/html")

    return email


def send(notification: Notification, connection: Any) -> Outcome:
    """Send one email on an open backend connection; say how it went."""
    if not notification.address:
        return Outcome(
            False,
            1,
            f"{notification.recipient} has no email address; add one to the account",
        )

    try:
        sent = connection.send_messages([build(notification)])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (550, b""))
        return _refused(code, text)
    except smtplib.SMTPResponseException as exc:
        return _refused(exc.smtp_code, exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:
        # Lost connection, refused connection, timeout: the server may be
        # back soon. Close what is left so that the next message reconnects.
        _close(connection)
        return Outcome(False, 1, f"SMTP: {exc or type(exc).__name__}", retryable=True)

    if not sent:
        return Outcome(False, 1, "the email backend sent nothing", retryable=True)

    return Outcome(True, 1)


def _refused(code: int, text: bytes | str) -> Outcome:
    shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    # 4xx replies are the server's "try again later"; 5xx are final.
    return Outcome(False, 1, f"SMTP {code}: {shown}".strip(), retryable=code < 500)


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail again
        connection.connection = None
