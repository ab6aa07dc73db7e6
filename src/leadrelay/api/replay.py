"""Writes that answer only once committed, and replay their first answer on a retry.

Every write handler hands its work to `committed`. The work runs in one
transaction; the response is built after it commits, so a 2xx always means
the lead and its events are stored.

With an `Idempotency-Key` header, a row for (caller, key) is inserted first,
in that same transaction. A retry, even one sent while the first is still
running, cannot insert it again: on PostgreSQL its insert waits for the
first transaction and then fails the unique constraint; on SQLite its
BEGIN IMMEDIATE waits for the first to commit. Either way it then finds the
stored answer and sends it back, status and body, and creates nothing.
Only a success is stored: a refused or failed request rolled everything
back, its key with it, so sending it again runs it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse

from leadrelay.api.auth import Actor
from leadrelay.api.errors import JSON, ApiError, Invalid, encode
from leadrelay.models import IdempotentRequest

HEADER = "Idempotency-Key"

Work = Callable[[], tuple[int, Any]]


def committed(request: HttpRequest, actor: Actor, work: Work) -> HttpResponse:
    """Run `work` in a transaction; answer with what it returned, once committed."""
    sent = request.headers.get(HEADER)
    if sent is None:
        with writing():
            status, data = work()
        return HttpResponse(encode(data), status=status, content_type=JSON)

    key = sent.strip()
    if not key or len(key) > 255:
        raise Invalid([(HEADER, "must be 1 to 255 characters")])

    fingerprint = _fingerprint(request)
    with writing():
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    scope=actor.scope, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            first = IdempotentRequest.objects.get(scope=actor.scope, key=key)
            return _replay(first, fingerprint)

        status, data = work()
        row.status = status
        row.body = encode(data)
        row.save(update_fields=["status", "body"])

    response = HttpResponse(row.body, status=status, content_type=JSON)
    response["Idempotent-Replayed"] = "false"
    return response


def _replay(first: IdempotentRequest, fingerprint: str) -> HttpResponse:
    if first.fingerprint != fingerprint:
        raise ApiError(
            422,
            "idempotency_mismatch",
            f"The {HEADER} was used before for a different request (another "
            "path or body); use a new key for a new request.",
        )

    response = HttpResponse(first.body, status=first.status, content_type=JSON)
    response["Idempotent-Replayed"] = "true"
    return response


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


_turns = threading.RLock()
_lock_files: dict[str, int] = {}


@contextmanager
def writing() -> Iterator[None]:
    """Run a transaction that writes; on SQLite, writers take turns, woken in order.

    SQLite lets one writer in at a time, and one kept waiting polls with
    growing sleeps, up to 100 ms each, so with several web processes most of
    a writer's wait is sleep after the database was free again. A blocking
    lock on a file beside the database (and a lock for the threads of one
    process) queues them instead: the next wakes as the last one commits.
    """
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        with transaction.atomic():
            yield
        return

    if connection.in_atomic_block:
        # Inside a caller's transaction: it holds SQLite's lock already.
        with transaction.atomic():
            yield
        return

    with _turns:
        fd = _lock_file(str(connection.settings_dict["NAME"]) + "-writers")
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with transaction.atomic():
                yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _lock_file(path: str) -> int:
    fd = _lock_files.get(path)
    if fd is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        _lock_files[path] = fd
    return fd
