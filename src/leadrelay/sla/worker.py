"""The worker: a loop of small steps that find what is due and act on it once.

Each tick runs three steps, and each says whether it did any work:

1. `clocks`: clocks whose `next_action_at` has come (a range scan on a
   partial index of the clocks with something left to do) are warned,
   breached or escalated, and their notifications recorded;
2. `deliveries`: pending notifications nobody holds (a retry that is due, or
   one a crashed worker left) are sent;
3. `digest`: the weekly pulse, once its time has come, once per week.

Rows are claimed before anyone acts on them: a conditional UPDATE sets
`claimed_by` and `claimed_until` only where the row is unclaimed or its
claim has run out. On PostgreSQL the rows are first picked with SELECT ...
FOR UPDATE SKIP LOCKED, so that workers take different rows instead of
queueing on the same ones; on SQLite the transaction holds the database's
write lock from its start, which serialises claims across processes. What a
worker does to a claimed clock is committed in one transaction together with
the notifications it records, so a crash loses nothing: the claim runs out
and the next tick, here or in another worker, takes the clock over.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Field, Model, Q, QuerySet
from django.utils import timezone

from leadrelay.contract import Contract, ContractError, load_file
from leadrelay.contract.model import Sla
from leadrelay.models import (
    Channel,
    Clock,
    Delivery,
    Digest,
    Notification,
    NotificationKind,
)
from leadrelay.notify import compose, deliver
from leadrelay.notify import digest as digests
from leadrelay.notify.deliver import Delivered
from leadrelay.notify.recipients import Directory
from leadrelay.pulse.compute import pulse
from leadrelay.sla.clock import Calendar
from leadrelay.sla.clocks import calendar_for, plan, step_at, warning_at
from leadrelay.workflow.status import is_closed

log = logging.getLogger(__name__)

#: The clock fields a tick may change, written back in one UPDATE per batch.
_CLOCK_FIELDS = [
    "warned_at",
    "breached_at",
    "ended_at",
    "escalation_level",
    "next_action_at",
    "claimed_by",
    "claimed_until",
    "attempts",
    "last_error",
]


@dataclass
class Tick:
    """What one tick did, for its summary line."""

    at: datetime
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    closed: int = 0
    pushed_back: int = 0
    delivered: Delivered = field(default_factory=Delivered)
    digests: list[str] = field(default_factory=list)

    def add(self, other: Tick) -> None:
        """Count what a clock's handling did, once it went through."""
        self.warnings += other.warnings
        self.breaches += other.breaches
        self.escalations += other.escalations
        self.closed += other.closed

    def did_work(self) -> bool:
        counts = (self.warnings, self.breaches, self.escalations, self.closed)
        return bool(any(counts) or self.pushed_back or self.delivered or self.digests)

    def line(self) -> str:
        parts = [
            _count(self.breaches, "breach", "breaches"),
            _count(self.escalations, "escalation", "escalations"),
            _count(self.warnings, "warning", "warnings"),
            _count(self.closed, "clock of a closed lead", "clocks of closed leads"),
            _count(self.pushed_back, "row pushed back", "rows pushed back"),
        ]
        done = self.delivered
        parts.append(f"sent {done.sent}")
        if done.retrying:
            parts.append(f"{done.retrying} to retry")
        if done.failed:
            parts.append(f"{done.failed} failed")
        parts += [f"pulse {week} recorded" for week in self.digests]
        shown = self.at.astimezone(timezone.get_current_timezone())
        return f"{shown:%Y-%m-%d %H:%M:%S} " + ", ".join(p for p in parts if p)


def start_background(report: Callable[[str], None], interval: float = 5.0) -> Worker:
    """Run one worker in a daemon thread, for `leadrelay serve` on one machine."""
    worker = Worker()

    def loop() -> None:
        try:
            worker.run(interval=interval, report=report)
        finally:
            connections.close_all()

    threading.Thread(target=loop, name="leadrelay-worker", daemon=True).start()
    return worker


def _count(n: int, one: str, many: str) -> str:
    return "" if not n else f"1 {one}" if n == 1 else f"{n} {many}"


def worker_name() -> str:
    """Return a name no other worker has: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


class Worker:
    """Find due clocks, notifications and digests, claim them, act once."""

    def __init__(
        self,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = timezone.now,
        contract: Contract | None = None,
        batch: int = 100,
        lease: timedelta | None = None,
    ) -> None:
        self.name = name or worker_name()
        self.clock = clock
        self.batch = batch
        self.lease = lease or timedelta(seconds=settings.WORKER_LEASE)
        self._fixed_contract = contract
        self._contract: Contract | None = contract
        self._contract_stamp: int | None = None
        self.stop = threading.Event()

    # -- the loop -------------------------------------------------------------

    def run(
        self,
        interval: float = 5.0,
        once: bool = False,
        report: Callable[[str], None] | None = None,
    ) -> None:
        """Tick until stopped; with `once`, until a tick finds nothing to do.

        A tick that did work is followed by the next at once, so a backlog
        drains at full speed; an idle one waits `interval` seconds.
        """
        failing = ""
        while not self.stop.is_set():
            try:
                tick = self.tick()
            except Exception as exc:  # noqa: BLE001 - the loop outlives a bad tick
                # The database is away, say, or the contract unreadable at
                # the start: say so once, and try again after the interval.
                if _describe(exc) != failing:
                    log.exception("worker tick failed; trying every %g s", interval)
                failing = _describe(exc)
                self.stop.wait(interval)
                continue

            failing = ""

            if tick.did_work():
                if report is not None:
                    report(tick.line())
                continue

            if once:
                return

            self.stop.wait(interval)

    def tick(self) -> Tick:
        if not connection.in_atomic_block:
            # As a request would: drop a connection that broke or grew old.
            close_old_connections()
        now = self.clock()
        tick = Tick(now)
        steps = (self.clocks_step, self.deliveries_step, self.digest_step)
        for step in steps:
            if self.stop.is_set():
                break
            step(now, tick)

        return tick

    def contract(self) -> Contract:
        """Return the contract in force, read again when its file changes.

        A contract broken by an edit keeps the last good one in force (and
        says so once); there is nothing to fall back on at the start.
        """
        if self._fixed_contract is not None:
            return self._fixed_contract

        path = Path(settings.CONTRACT_PATH)
        stamp = path.stat().st_mtime_ns
        if self._contract is None or stamp != self._contract_stamp:
            try:
                self._contract = load_file(path)
            except ContractError as exc:
                if self._contract is None:
                    raise
                log.error("contract not reloaded, the last good one holds: %s", exc)
            self._contract_stamp = stamp

        return self._contract

    # -- step 1: clocks ---------------------------------------------------------

    def clocks_step(self, now: datetime, tick: Tick) -> int:
        due = Clock.objects.filter(
            next_action_at__isnull=False, next_action_at__lte=now
        ).order_by("next_action_at")
        ids = self.claim(Clock, due, now)
        if not ids:
            return 0

        contract = self.contract()
        try:
            with transaction.atomic():
                notes = self._act(ids, contract, now, tick)
        except DatabaseError:
            # One row broke the batch's writes: act on each alone, so that
            # only that one is pushed back.
            log.exception("clock batch failed; retrying its clocks one by one")
            notes = []
            for pk in ids:
                try:
                    with transaction.atomic():
                        notes += self._act([pk], contract, now, tick)
                except Exception as exc:  # noqa: BLE001 - any bad row is set aside
                    log.exception("clock %s failed", pk)
                    _push_back(pk, exc, now)
                    tick.pushed_back += 1

        tick.delivered += deliver.send_claimed(
            [n.pk for n in notes], self.name, self.clock, self.lease
        )
        return len(ids)

    def _act(
        self, ids: list[int], contract: Contract, now: datetime, tick: Tick
    ) -> list[Notification]:
        clocks = list(
            Clock.objects.select_for_update()
            .select_related("lead")
            .filter(pk__in=ids, claimed_by=self.name)
        )
        directory = Directory(contract, [c.lead for c in clocks])
        notes: list[Notification] = []
        for clock in clocks:
            before = {name: getattr(clock, name) for name in _CLOCK_FIELDS}
            done = Tick(now)
            try:
                notes += self._handle(clock, contract, directory, now, done)
                tick.add(done)
            except Exception as exc:  # noqa: BLE001 - any bad row is set aside
                log.exception("clock %s failed", clock.pk)
                for name, value in before.items():
                    setattr(clock, name, value)
                _set_aside(clock, exc, now)
                tick.pushed_back += 1

        _insert(notes)
        _write_back(clocks)
        return notes

    def _handle(
        self,
        clock: Clock,
        contract: Contract,
        directory: Directory,
        now: datetime,
        tick: Tick,
    ) -> list[Notification]:
        """Warn, breach or escalate one clock as `now` requires; plan its next look."""
        clock.claimed_by = ""
        clock.claimed_until = None
        clock.attempts = 0
        clock.last_error = ""
        rule = contract.sla(clock.sla)
        calendar = calendar_for(contract, clock.kind)
        if clock.is_running and is_closed(contract, clock.lead):
            clock.ended_at = now
            tick.closed += 1
        if rule is None or not clock.is_running or clock.is_paused:
            clock.next_action_at = None
            return []

        notes: list[Notification] = []
        if now < clock.due_at:
            warn = warning_at(clock, rule, calendar)
            if clock.warned_at is None and warn is not None and warn <= now:
                notes += self._messages(
                    NotificationKind.WARNING,
                    clock,
                    rule,
                    "owner",
                    "warning",
                    contract,
                    directory,
                    calendar,
                    now,
                )
                clock.warned_at = now
                tick.warnings += 1
        else:
            if clock.breached_at is None:
                clock.breached_at = clock.due_at
                tick.breaches += 1
            notes += self._escalate(clock, rule, contract, directory, calendar, now)
            tick.escalations += sum(
                1
                for n in notes
                if n.kind == NotificationKind.ESCALATION and n.channel == Channel.EMAIL
            )

        clock.next_action_at = plan(clock, rule, calendar)
        return notes

    def _escalate(
        self,
        clock: Clock,
        rule: Sla,
        contract: Contract,
        directory: Directory,
        calendar: Calendar,
        now: datetime,
    ) -> list[Notification]:
        """Take every step of the ladder whose time has come, in order."""
        notes: list[Notification] = []
        while clock.escalation_level < len(rule.escalate):
            step = rule.escalate[clock.escalation_level]
            if step_at(clock, step, calendar) > now:
                break

            kind = (
                NotificationKind.BREACH
                if clock.escalation_level == 0
                else NotificationKind.ESCALATION
            )
            notes += self._messages(
                kind,
                clock,
                rule,
                step.to,
                f"step{clock.escalation_level}",
                contract,
                directory,
                calendar,
                now,
            )
            clock.escalation_level += 1

        return notes

    def _messages(
        self,
        kind: str,
        clock: Clock,
        rule: Sla,
        to: str,
        step: str,
        contract: Contract,
        directory: Directory,
        calendar: Calendar,
        now: datetime,
    ) -> list[Notification]:
        """Return one step's notifications: an email to each person, one chat message."""
        lead = clock.lead
        route = directory.route(lead, clock.owner, to)
        message = compose.clock_message(
            kind, lead, clock, rule, route, contract, calendar, now, to
        )
        common: dict[str, Any] = {
            "kind": kind,
            "subject": message.subject,
            "body": message.text,
            "now": now,
            "worker": self.name,
            "lease": self.lease,
            "lead": lead,
            "clock": clock,
            "because": route.because[:300],
        }
        key = f"clock:{clock.pk}:{step}"
        notes = [
            deliver.new(
                key=f"{key}:email:{person.username}",
                channel=Channel.EMAIL,
                recipient=person.username,
                address=person.email,
                **common,
            )
            for person in route.people
        ]
        if not route.people:
            nobody = deliver.new(
                key=f"{key}:email:",
                channel=Channel.EMAIL,
                recipient="nobody",
                address="",
                **common,
            )
            nobody.status = Delivery.FAILED
            nobody.claimed_by = ""
            nobody.claimed_until = None
            nobody.error = (
                f"nobody to send it to ({route.because or to}); "
                "make someone an admin or set the team lead"
            )
            notes.append(nobody)
        if route.webhook:
            notes.append(
                deliver.new(
                    key=f"{key}:chat",
                    channel=Channel.CHAT,
                    recipient=", ".join(route.names) or "nobody",
                    address=route.webhook,
                    payload=message.chat_payload(route.names),
                    **common,
                )
            )

        return notes

    # -- step 2: deliveries -------------------------------------------------------

    def deliveries_step(self, now: datetime, tick: Tick) -> int:
        """Send pending notifications that nobody holds: retries, and a crashed worker's."""
        due = Notification.objects.filter(status=Delivery.PENDING).filter(
            unclaimed(now)
        )
        ids = self.claim(Notification, due, now)
        if ids:
            tick.delivered += deliver.send_claimed(
                ids, self.name, self.clock, self.lease
            )

        return len(ids)

    # -- step 3: the weekly digest ------------------------------------------------

    def digest_step(self, now: datetime, tick: Tick) -> int:
        """Record the weekly pulse's messages once its time has come, once a week."""
        contract = self.contract()
        chat = contract.pulse.chat and bool(settings.NOTIFY_CHAT_WEBHOOK_URL)
        if not contract.pulse.to and not chat:
            return 0

        week, due_at = digests.slot(contract, now)
        row = self._claim_digest(str(week), due_at, now)
        if row is None:
            return 0

        report = pulse(contract, week, now)
        common: dict[str, Any] = {
            "kind": NotificationKind.DIGEST,
            "subject": digests.subject(report),
            "body": digests.text(report),
            "now": now,
            "worker": self.name,
            "lease": self.lease,
            "digest": row,
        }
        notes = [
            deliver.new(
                key=f"digest:{week}:email:{address}",
                channel=Channel.EMAIL,
                recipient=address,
                address=address,
                html=digests.html(report),
                **common,
            )
            for address in contract.pulse.to
        ]
        if chat:
            notes.append(
                deliver.new(
                    key=f"digest:{week}:chat",
                    channel=Channel.CHAT,
                    recipient="the team",
                    address="default",
                    payload=digests.chat_payload(report),
                    **common,
                )
            )
        with transaction.atomic():
            mine = Digest.objects.filter(
                pk=row.pk, claimed_by=self.name, sent_at__isnull=True
            ).update(sent_at=now, claimed_by="", claimed_until=None)
            if not mine:
                return 0
            Notification.objects.bulk_create(notes)

        tick.digests.append(str(week))
        tick.delivered += deliver.send_claimed(
            [n.pk for n in notes], self.name, self.clock, self.lease
        )
        return 1

    def _claim_digest(
        self, week: str, due_at: datetime, now: datetime
    ) -> Digest | None:
        row = Digest.objects.filter(week=week).first()
        if row is not None and row.sent_at is not None:
            return None

        if row is None:
            try:
                with transaction.atomic():
                    return Digest.objects.create(
                        week=week,
                        due_at=due_at,
                        created_at=now,
                        claimed_by=self.name,
                        claimed_until=now + self.lease,
                    )
            except IntegrityError:
                # Another worker recorded this week's digest first.
                return None

        taken = (
            Digest.objects.filter(pk=row.pk, sent_at__isnull=True)
            .filter(unclaimed(now))
            .update(claimed_by=self.name, claimed_until=now + self.lease)
        )
        return Digest.objects.get(pk=row.pk) if taken else None

    # -- claiming -----------------------------------------------------------------

    def claim(self, model: type[Model], due: QuerySet[Any], now: datetime) -> list[int]:
        """Claim up to a batch of due, unclaimed rows; return the ids now held.

        The first look takes no lock, so an idle tick costs one index probe.
        """
        due = due.filter(unclaimed(now))
        if not due[:1].exists():
            return []

        with transaction.atomic():
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            ids = list(due.values_list("pk", flat=True)[: self.batch])
            if not ids:
                return []

            taken = (
                model._default_manager.filter(pk__in=ids)
                .filter(unclaimed(now))
                .update(claimed_by=self.name, claimed_until=now + self.lease)
            )
            if taken == len(ids):
                return ids

            held = model._default_manager.filter(pk__in=ids, claimed_by=self.name)
            return list(held.values_list("pk", flat=True))


def _push_back(pk: int, exc: Exception, now: datetime) -> None:
    """Push a clock back whose own transaction failed."""
    attempts = Clock.objects.filter(pk=pk).values_list("attempts", flat=True).first()
    Clock.objects.filter(pk=pk).update(
        next_action_at=now + _backoff(attempts or 0),
        attempts=F("attempts") + 1,
        last_error=_describe(exc),
        claimed_by="",
        claimed_until=None,
    )


def _insert(notes: list[Notification]) -> None:
    """Insert a batch's notifications with one prepared statement; set their ids.

    Like `_write_back`: bulk_create builds one statement with a parameter
    per field and row, which takes longer to build than to run.
    """
    if not notes:
        return

    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    ops = connection.ops
    table = ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    rows = _prepared(fields, notes)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    keys = [n.key for n in notes]
    ids = dict(Notification.objects.filter(key__in=keys).values_list("key", "pk"))
    for note in notes:
        note.pk = ids[note.key]


def _write_back(clocks: list[Clock]) -> None:
    """Save the fields a tick changes, one prepared UPDATE for the whole batch.

    Django's bulk_update builds a CASE expression per field and row, which
    costs more than the rest of the tick; executemany does not.
    """
    if not clocks:
        return

    fields = [_field(name) for name in _CLOCK_FIELDS]
    ops = connection.ops
    table = ops.quote_name(Clock._meta.db_table)
    assignments = ", ".join(f"{ops.quote_name(f.attname)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s"
    rows = [
        row + [c.pk] for row, c in zip(_prepared(fields, clocks), clocks, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _prepared(fields: list[Field[Any, Any]], objects: list[Any]) -> list[list[Any]]:
    """Return the objects' values as the database takes them, row by row.

    Most values repeat across a batch (a status, a time, an empty string);
    each distinct one is prepared once.
    """
    done: dict[tuple[str, type, Any], Any] = {}
    rows = []
    for obj in objects:
        row = []
        for f in fields:
            value = getattr(obj, f.attname)
            if not isinstance(value, (str, int, float, datetime, type(None))):
                row.append(f.get_db_prep_save(value, connection))
                continue
            key = (f.attname, type(value), value)
            if key not in done:
                done[key] = f.get_db_prep_save(value, connection)
            row.append(done[key])
        rows.append(row)

    return rows


def _field(name: str) -> Field[Any, Any]:
    field = Clock._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _set_aside(clock: Clock, exc: Exception, now: datetime) -> None:
    """Push a clock that made its step fail back, so the others go on."""
    clock.next_action_at = now + _backoff(clock.attempts)
    clock.attempts += 1
    clock.last_error = _describe(exc)
    clock.claimed_by = ""
    clock.claimed_until = None


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2**attempts, 3600))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
