"""Writing imported leads in batches: the import's way through the workflow.

New leads and their events are inserted with one `executemany` per table
rather than one ORM save per row: an export can hold a million rows. Ids are
reserved up front so that events can point at their lead without reading
anything back. A batch is written inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leadrelay.contract.model import Contract
from leadrelay.models import ContractVersion, Event, Lead
from leadrelay.workflow.history import Derived, LeadRecord, PastEvent, derive

#: SQLite's page cache while a batch is written, in KiB (its default is 2 MiB).
BATCH_CACHE_KIB = 64 * 1024
#: How many pages SQLite's WAL may reach before a batch's commit copies it
#: into the database (its default is 1,000).
BATCH_CHECKPOINT_PAGES = 100_000

#: Lead fields an import writes, in the order of the insert's columns.
_LEAD_FIELDS = (
    "external_id",
    "email",
    "phone",
    "name",
    "company",
    "source",
    "campaign",
    "industry",
    "company_size",
    "employees",
    "location",
    "intent",
    "owner",
    "next_action",
    "next_action_owner",
    "next_action_due",
    "loss_reason",
    "loss_note",
)


def contract_version(contract: Contract) -> ContractVersion:
    """Return the stored row for this contract text, storing it the first time."""
    version, _ = ContractVersion.objects.get_or_create(
        sha256=contract.sha256,
        defaults={"name": contract.name, "text": contract.text},
    )
    return version


#: The PostgreSQL advisory lock that one import at a time holds.
_IMPORT_LOCK = 7_204_211


@contextmanager
def import_lock() -> Iterator[None]:
    """Let one import at a time write to the database.

    Each batch looks up the rows it already has before inserting the rest;
    two imports of one file interleaving on PostgreSQL would both miss and
    both insert. SQLite needs no lock: a batch's transaction takes the write
    lock at BEGIN, so the second import's lookups see the first one's rows.
    """
    if connection.vendor != "postgresql":
        yield
        return

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_IMPORT_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_IMPORT_LOCK])


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    contradictions: int = 0
    contradiction_examples: list[str] = field(default_factory=list)


def write_batch(
    records: Sequence[LeadRecord],
    contract: Contract,
    version: ContractVersion,
    actor: str,
    origin: str,
    contact_time_known: bool,
) -> BatchOutcome:
    outcome = BatchOutcome()
    if connection.vendor == "sqlite":
        _tune_sqlite_for_batch()
    records = _last_of_each(records)
    existing = _existing(records)
    fresh: list[tuple[LeadRecord, Derived, str]] = []

    for record in records:
        derived = derive(record, contract)
        if derived.contradictions:
            outcome.contradictions += 1
            if len(outcome.contradiction_examples) < 5:
                outcome.contradiction_examples.append(
                    record.external_id or record.email
                )

        fingerprint = record.fingerprint()
        found = existing.get(_identity(record))
        if found is None:
            fresh.append((record, derived, fingerprint))
            continue

        if found.fingerprint == fingerprint:
            outcome.unchanged += 1
            continue

        merged = _filled_from(record, found)
        _update(
            found, merged, derive(merged, contract), fingerprint, version, actor, origin
        )
        outcome.updated += 1

    _insert(fresh, version, actor, origin, contact_time_known)
    outcome.created = len(fresh)
    return outcome


#: Record fields that a re-import fills from the stored lead when it has none.
_KEPT_WHEN_EMPTY = (*_LEAD_FIELDS, "stage", "created_at", "first_outreach_at")


def _filled_from(record: LeadRecord, lead: Lead) -> LeadRecord:
    """Return the record with what it leaves empty taken from the stored lead.

    A later export may hold fewer columns, or a cell left blank: a re-import
    adds and changes values but never erases one, so a narrower file cannot
    blank a lead's company or the day it came in.
    """
    filled = replace(record, extra={**lead.extra, **record.extra})
    for name in _KEPT_WHEN_EMPTY:
        if getattr(record, name) in ("", None):
            setattr(filled, name, getattr(lead, name))
    if not record.entered:
        filled.entered = {}
    return filled


def _tune_sqlite_for_batch() -> None:
    """Give the batch's transaction a larger page cache and rarer checkpoints.

    Export ids are random, so nearly every row of a batch lands on its own
    page of the id index: thousands of dirty pages, which SQLite's default
    2 MiB cache spills to the WAL before the commit, and which the default
    checkpoint then copies into the database file after every commit.
    Neither setting changes what is written or when it is committed. A longer
    WAL only means that a power cut (not a crash) can lose more of the last
    batches, which importing the file again restores. Both settings are put
    back once the transaction commits.
    """
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        if (cache, checkpoint) == (-BATCH_CACHE_KIB, BATCH_CHECKPOINT_PAGES):
            # Tuned already: an earlier batch of this same transaction.
            return

        cursor.execute(f"PRAGMA cache_size = {-BATCH_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {BATCH_CHECKPOINT_PAGES}")

    def restore() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")

    transaction.on_commit(restore)


def _identity(record: LeadRecord) -> tuple[str, str]:
    if record.external_id:
        return ("id", record.external_id)

    return ("email", record.email)


def _last_of_each(records: Sequence[LeadRecord]) -> list[LeadRecord]:
    """Keep the last row for each identity: a later row in one file wins."""
    by_identity: dict[tuple[str, str], LeadRecord] = {}
    for record in records:
        by_identity[_identity(record)] = record

    return list(by_identity.values())


def _existing(records: Sequence[LeadRecord]) -> dict[tuple[str, str], Lead]:
    ids = [r.external_id for r in records if r.external_id]
    emails = [r.email for r in records if not r.external_id and r.email]
    found: dict[tuple[str, str], Lead] = {}
    if ids:
        for lead in Lead.objects.filter(external_id__in=ids):
            found[("id", lead.external_id)] = lead
    if emails:
        for lead in Lead.objects.filter(email__in=emails).order_by("id"):
            found.setdefault(("email", lead.email), lead)

    return found


def _lead_values(record: LeadRecord, derived: Derived) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _LEAD_FIELDS}
    values.update(
        stage=derived.stage,
        reached_rank=derived.reached_rank,
        created_at=record.created_at,
        first_outreach_at=derived.first_outreach_at,
        closed_at=derived.closed_at,
        last_event_at=derived.last_event_at,
        extra=record.extra,
    )
    return values


def _update(
    lead: Lead,
    record: LeadRecord,
    derived: Derived,
    fingerprint: str,
    version: ContractVersion,
    actor: str,
    origin: str,
) -> None:
    values = _lead_values(record, derived)
    changes = {}
    for name, after in values.items():
        before = getattr(lead, name)
        if before != after:
            changes[name] = {"before": _plain(before), "after": _plain(after)}
            setattr(lead, name, after)
    lead.fingerprint = fingerprint
    lead.origin = origin
    lead.save()

    recorded = {
        (e.kind, e.stage, e.at)
        for e in Event.objects.filter(lead=lead).only("kind", "stage", "at")
    }
    new_events = [e for e in derived.events if (e.kind, e.stage, e.at) not in recorded]
    new_events.append(
        PastEvent("updated", timezone.now(), derived.stage, data={"changes": changes})
    )
    dt = _datetime_adapter()
    now = dt(timezone.now())
    rows = [_event_row(lead.pk, e, version, actor, now, dt) for e in new_events]
    _insert_events(rows)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _reserve_ids(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]

        # SQLite: the transaction already holds the write lock (BEGIN
        # IMMEDIATE), so nobody else can take these ids before we commit.
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def _insert(
    fresh: list[tuple[LeadRecord, Derived, str]],
    version: ContractVersion,
    actor: str,
    origin: str,
    contact_time_known: bool,
) -> None:
    if not fresh:
        return

    ids = _reserve_ids(Lead._meta.db_table, len(fresh))
    dt = _datetime_adapter()
    now = dt(timezone.now())
    columns = (
        ("id",)
        + _LEAD_FIELDS
        + (
            "stage",
            "reached_rank",
            "created_at",
            "first_outreach_at",
            "contact_time_known",
            "closed_at",
            "last_event_at",
            "updated_at",
            "origin",
            "fingerprint",
            "extra",
        )
    )
    lead_rows = []
    event_rows = []
    for lead_id, (record, derived, fingerprint) in zip(ids, fresh, strict=True):
        lead_rows.append(
            (
                lead_id,
                record.external_id,
                record.email,
                record.phone,
                record.name,
                record.company,
                record.source,
                record.campaign,
                record.industry,
                record.company_size,
                record.employees,
                record.location,
                record.intent,
                record.owner,
                record.next_action,
                record.next_action_owner,
                dt(record.next_action_due),
                record.loss_reason,
                record.loss_note,
                derived.stage,
                derived.reached_rank,
                dt(record.created_at),
                dt(derived.first_outreach_at),
                contact_time_known or derived.first_outreach_at is not None,
                dt(derived.closed_at),
                dt(derived.last_event_at),
                now,
                origin,
                fingerprint,
                _json(record.extra),
            )
        )
        for event in derived.events:
            event_rows.append(_event_row(lead_id, event, version, actor, now, dt))

    placeholders = ", ".join(["%s"] * len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{Lead._meta.db_table}" ({names}) VALUES ({placeholders})',
            lead_rows,
        )
    _insert_events(event_rows)


_EVENT_COLUMNS = (
    "lead_id",
    "kind",
    "at",
    "recorded_at",
    "actor",
    "stage",
    "milestone",
    "data",
    "contract_version_id",
)


def _datetime_adapter() -> Callable[[datetime | None], Any]:
    """Return how this database takes an aware datetime in a raw query.

    Django's own adapter does the same for SQLite (naive UTC text) but costs
    several calls a value, which adds up over millions of events.
    """
    if connection.vendor != "sqlite":
        return lambda value: value

    # A batch repeats few moments many times (exports often date by the day),
    # so each is converted once. Aware datetimes are equal only as the same
    # instant, except that two wall times of one zone differing only in fold
    # compare equal: fold is part of the key.
    known: dict[tuple[datetime, int], str] = {}

    def to_text(value: datetime | None) -> str | None:
        if value is None:
            return None
        key = (value, value.fold)
        text = known.get(key)
        if text is None:
            text = known[key] = str(value.astimezone(UTC).replace(tzinfo=None))
        return text

    return to_text


def _json(data: dict[str, Any], default: Callable[[Any], Any] | None = None) -> str:
    """Return `json.dumps(data, default=default)`; dicts of strings go faster.

    The fast path writes what `json.dumps` writes with its defaults: keys in
    order, ", " and ": " between them, non-ASCII escaped, None as null.
    """
    quote = encode_basestring_ascii
    parts = []
    for key, value in data.items():
        if type(key) is not str:
            return json.dumps(data, default=default)
        if type(value) is str:
            parts.append(f"{quote(key)}: {quote(value)}")
        elif value is None:
            parts.append(f"{quote(key)}: null")
        else:
            return json.dumps(data, default=default)

    return "{" + ", ".join(parts) + "}"


def _event_row(
    lead_id: int,
    event: PastEvent,
    version: ContractVersion,
    actor: str,
    recorded: Any,
    dt: Callable[[datetime | None], Any],
) -> tuple[Any, ...]:
    return (
        lead_id,
        event.kind,
        dt(event.at),
        recorded,
        actor,
        event.stage,
        event.milestone,
        _json(event.data, _plain) if event.data else "{}",
        version.pk,
    )


def _insert_events(rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return

    placeholders = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    names = ", ".join(f'"{c}"' for c in _EVENT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{Event._meta.db_table}" ({names}) VALUES ({placeholders})',
            rows,
        )
