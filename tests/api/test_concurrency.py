"""Retries and duplicates arriving at once, over real connections to a live server.

Each client is a thread with its own HTTP connection, released together by a
barrier; the server answers each request in a thread with its own database
connection. On SQLite the database is a file (see `shared_database`).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from leadrelay.models import Event, FormSubmission, IdempotentRequest, IntakeForm, Lead

from .conftest import key_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLIENTS = 8


def at_once(
    base: str, requests: list[tuple[str, str, bytes, dict[str, str]]]
) -> list[tuple[int, bytes]]:
    """Send each request on its own connection, all released together."""
    address = urlsplit(base)
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(
        i: int, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> None:
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            conn.connect()
            barrier.wait(timeout=30)
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            results[i] = (response.status, response.read())
        except Exception as exc:  # the assertions below report it
            results[i] = exc
        finally:
            conn.close()

    threads = [
        threading.Thread(target=run, args=(i, *request))
        for i, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert not any(t.is_alive() for t in threads)
    failed = [r for r in results if not isinstance(r, tuple)]
    assert failed == []
    return results


def intake(
    key: str, body: dict[str, Any], **headers: str
) -> tuple[str, str, bytes, dict[str, str]]:
    sent = {"X-Api-Key": key, "Content-Type": "application/json", **headers}
    return ("POST", "/api/v1/intake", json.dumps(body).encode(), sent)


def test_one_idempotency_key_sent_at_once_creates_one_lead(live_api: str) -> None:
    key = key_for("marketing")
    body = {"email": "ana@example.com", "source": "event"}
    request = intake(key, body, **{"Idempotency-Key": "the-same-retry"})

    answers = at_once(live_api, [request] * CLIENTS)

    assert {status for status, _ in answers} == {201}
    assert len({content for _, content in answers}) == 1
    assert Lead.objects.count() == 1
    assert Event.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1


def test_one_new_email_sent_at_once_creates_one_lead(live_api: str) -> None:
    key = key_for("marketing")
    spellings = ["bo@example.com", "BO@example.com", " Bo@Example.com "]
    requests = [
        intake(key, {"email": spellings[i % 3], "source": "event"})
        for i in range(CLIENTS)
    ]

    answers = at_once(live_api, requests)

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 200: CLIENTS - 1}
    [lead] = Lead.objects.all()
    assert {json.loads(content)["lead"]["id"] for _, content in answers} == {lead.pk}
    kinds = Counter(Event.objects.filter(lead=lead).values_list("kind", flat=True))
    assert kinds == {"created": 1, "updated": CLIENTS - 1}


def test_one_form_render_sent_at_once_files_one_inquiry(live_api: str) -> None:
    IntakeForm.objects.create(slug="webinar", source="event", fields=["email"])
    address = urlsplit(live_api)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    conn.request("GET", "/f/webinar/embed")
    page = conn.getresponse().read().decode()
    conn.close()
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match
    body = f"token={match[1]}&email=ana%40example.com".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    answers = at_once(live_api, [("POST", "/f/webinar/embed", body, headers)] * 6)

    assert {status for status, _ in answers} == {200}
    assert Lead.objects.count() == 1
    assert FormSubmission.objects.count() == 1
