"""Record notifications, then deliver those a worker has claimed.

A notification is saved before anything is sent, with the worker's claim on
it, in the same transaction as the clock or digest change it belongs to.
Delivery then renews the claim just before each send and writes the outcome
right after. A worker that dies between the two leaves the row pending; when
the claim runs out another worker sends it. That can repeat a message the
server had accepted in the instant before the crash (it carries the same
Message-ID), but it never loses one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import get_connection

from leadrelay.notify import chat, mail
from leadrelay.notify.chat import Outcome
from leadrelay.notify.models import Channel, Delivery, Notification
from leadrelay.notify.recipients import webhook_url

log = logging.getLogger(__name__)


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    retrying: int = 0

    def __iadd__(self, other: Delivered) -> Delivered:
        self.sent += other.sent
        self.failed += other.failed
        self.retrying += other.retrying
        return self

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.retrying)


def new(
    *,
    key: str,
    kind: str,
    channel: str,
    recipient: str,
    address: str,
    subject: str,
    body: str,
    now: datetime,
    worker: str,
    lease: timedelta,
    **more: Any,
) -> Notification:
    """Return an unsaved notification, claimed by `worker`, to be sent after commit."""
    return Notification(
        key=key[:200],
        kind=kind,
        channel=channel,
        recipient=recipient[:254],
        address=address[:254],
        subject=subject[:300],
        body=body,
        created_at=now,
        claimed_by=worker,
        claimed_until=now + lease,
        **more,
    )


def send_claimed(
    ids: Iterable[int],
    worker: str,
    clock: Callable[[], datetime],
    lease: timedelta,
) -> Delivered:
    """Send the pending notifications `worker` holds among `ids`, one by one.

    The claim on those still to send is renewed whenever a third of the
    lease has gone by, so that a slow chat server cannot make it run out
    mid-way; a row whose claim another worker has taken meanwhile is left
    to that worker.
    """
    done = Delivered()
    connection = None
    rows = list(
        Notification.objects.filter(
            pk__in=list(ids), status=Delivery.PENDING, claimed_by=worker
        ).order_by("id")
    )
    held: set[int] = set()
    renewed: datetime | None = None
    try:
        for i, notification in enumerate(rows):
            now = clock()
            if renewed is None or now - renewed > lease / 3:
                held = _renew([n.pk for n in rows[i:]], worker, now + lease)
                renewed = now
            if notification.pk not in held:
                continue

            if notification.channel == Channel.EMAIL:
                if connection is None:
                    connection = get_connection()
                outcome = mail.send(notification, connection)
            else:
                outcome = _post(notification)
            done += settle(notification, outcome, now)
    finally:
        if connection is not None:
            connection.close()

    return done


def _renew(ids: list[int], worker: str, until: datetime) -> set[int]:
    mine = Notification.objects.filter(
        pk__in=ids, status=Delivery.PENDING, claimed_by=worker
    )
    mine.update(claimed_until=until)
    return set(mine.values_list("pk", flat=True))


def settle(notification: Notification, outcome: Outcome, now: datetime) -> Delivered:
    """Write how a delivery went: sent, failed for good, or pending for a retry."""
    notification.attempts += 1
    notification.tried_at = now
    notification.claimed_by = ""
    notification.error = outcome.error
    done = Delivered()
    if outcome.ok:
        notification.status = Delivery.SENT
        notification.sent_at = now
        notification.claimed_until = None
        done.sent = 1
    elif outcome.retryable and notification.attempts < settings.NOTIFY_MAX_ROUNDS:
        wait = settings.NOTIFY_RETRY_AFTER * 4 ** (notification.attempts - 1)
        notification.claimed_until = now + timedelta(seconds=wait)
        done.retrying = 1
    else:
        notification.status = Delivery.FAILED
        notification.claimed_until = None
        done.failed = 1
        log.warning(
            "notification %s to %s failed: %s",
            notification.pk,
            notification.recipient,
            outcome.error,
        )

    Notification.objects.filter(pk=notification.pk).update(
        attempts=notification.attempts,
        tried_at=now,
        claimed_by="",
        claimed_until=notification.claimed_until,
        error=notification.error,
        status=notification.status,
        sent_at=notification.sent_at,
    )
    return done


def retry(notification: Notification) -> None:
    """Put a failed notification back in line, for an admin who fixed the cause.

    An email to a person goes to the address their account has now.
    """
    address = notification.address
    if notification.channel == Channel.EMAIL:
        user = User.objects.filter(username=notification.recipient).first()
        if user is not None:
            address = user.email
    Notification.objects.filter(pk=notification.pk, status=Delivery.FAILED).update(
        status=Delivery.PENDING,
        attempts=0,
        address=address,
        claimed_by="",
        claimed_until=None,
    )


def _post(notification: Notification) -> Outcome:
    url = webhook_url(notification.address)
    if not url:
        return Outcome(
            False, 0, "no chat webhook is set any more (LEADRELAY_CHAT_WEBHOOK_URL)"
        )

    return chat.post(
        url,
        notification.payload,
        timeout=settings.NOTIFY_CHAT_TIMEOUT,
        attempts=settings.NOTIFY_CHAT_ATTEMPTS,
        backoff=settings.NOTIFY_CHAT_BACKOFF,
        allowed=settings.NOTIFY_ALLOW_PRIVATE_WEBHOOKS,
    )
