"""The audit trail: an append-only hash chain of every state change.

Each entry stores the previous entry's hash and its own: SHA-256 over the previous hash and the
entry's canonical JSON. Appends are serialised (a PostgreSQL transaction-level advisory lock;
SQLite has a single writer) so the chain never forks, and a row edited behind the service's back
breaks the chain at that row.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from core import clock
from core.db import is_postgresql
from models.audit import AuditEntry
from models.base import aware, pk
from services.reference import regions

logger = logging.getLogger("outlet_filing.changes")

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_ID = 0x0A0D17  # any constant shared by every worker


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _timestamp(value: datetime) -> str:
    return aware(value).astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(entry: AuditEntry) -> str:
    fields: dict[str, Any] = {
        "at": _timestamp(entry.at),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "data": json.loads(entry.data),
    }
    # Hashed only when recorded, so entries written before regions were recorded still verify.
    if entry.region_code is not None:
        fields["region_code"] = entry.region_code
    content = canonical_json(fields)
    return hashlib.sha256((entry.prev_hash + content).encode()).hexdigest()


def append(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: Any,
    data: dict[str, Any] | None = None,
    region_code: str | None = None,
) -> AuditEntry:
    """Appends one entry. `region_code` is where its subject lies (a filing's county, an
    enterprise's or plan's region, an inspector's jurisdiction): admins read the entries inside
    their jurisdiction. None (city-wide reference data) is for city-level admins only."""
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    entry = AuditEntry(
        at=clock.now(),
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        region_code=region_code,
        data=canonical_json(data or {}),
        prev_hash=last.hash if last else GENESIS_HASH,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    # Logged once the transaction commits (a rolled-back change never happened); ids only.
    session.info.setdefault(_PENDING_LOG, []).append(
        f"{action} {entity}={entity_id} actor={actor_id} audit={entry.id}"
    )
    return entry


_PENDING_LOG = "audit_log_lines"


@event.listens_for(Session, "after_commit")
def _log_committed_changes(session: Session) -> None:
    for line in session.info.pop(_PENDING_LOG, []):
        logger.info(line)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session: Session) -> None:
    session.info.pop(_PENDING_LOG, None)


@dataclass
class ChainReport:
    verified: bool
    entries: int
    first_broken_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "entries": self.entries,
            "first_broken_id": self.first_broken_id,
            "reason": self.reason,
        }


@dataclass
class ChainHead:
    """What anyone may keep (GET /public/audit-head) to detect a rewritten history later:
    the number of entries, the last entry's hash (the genesis hash while empty) and its time."""

    entries: int
    head_hash: str
    at: datetime | None


def head(session: Session) -> ChainHead:
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    if last is None:
        return ChainHead(entries=0, head_hash=GENESIS_HASH, at=None)
    entries = session.exec(select(func.count()).select_from(AuditEntry)).one()
    return ChainHead(entries=int(entries), head_hash=last.hash, at=aware(last.at))


def verify(session: Session, *, batch: int = 1000, against: str | None = None) -> ChainReport:
    """Walks the whole chain in id order and reports the first entry that does not fit.

    `against` is a head kept earlier (GET /public/audit-head): the chain verifies only if an
    entry with that hash is still in it, so a history rewritten before that head (every hash
    recomputed) is found too."""
    previous = GENESIS_HASH
    reached = against is None or against == GENESIS_HASH
    count = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.id) > last_id)
            .order_by(col(AuditEntry.id))
            .limit(batch)
        ).all()
        if not rows:
            if not reached:
                return ChainReport(False, count, None, "the kept head is not in the chain")
            return ChainReport(verified=True, entries=count)
        for entry in rows:
            count += 1
            if entry.prev_hash != previous:
                return ChainReport(False, count, entry.id, "prev_hash does not match")
            if entry_hash(entry) != entry.hash:
                return ChainReport(False, count, entry.id, "content does not match its hash")
            reached = reached or entry.hash == against
            previous = entry.hash
            last_id = pk(entry)


def entries_within(
    session: Session,
    *,
    within: str,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    on_or_after: date | None = None,
    on_or_before: date | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The trail newest first, as far as a jurisdiction reaches: a city-level one reads every
    entry; a county's reads the entries whose subject lies inside it (never a city-wide one).
    `on_or_after` / `on_or_before` are Beijing calendar days (both included)."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if not regions.covers_city(within):
        query = query.where(col(AuditEntry.region_code).startswith(regions.region_prefix(within)))
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if action:
        query = query.where(AuditEntry.action == action)
    if on_or_after is not None:
        query = query.where(col(AuditEntry.at) >= _day_start(on_or_after))
    if on_or_before is not None:
        query = query.where(col(AuditEntry.at) < _day_start(on_or_before + timedelta(days=1)))
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if before_id:
        query = query.where(col(AuditEntry.id) < before_id)
    return list(session.exec(query).all())


def _day_start(day: date) -> datetime:
    """The first moment of a Beijing calendar day, in UTC (as timestamps are stored)."""
    return datetime.combine(day, time.min, tzinfo=clock.CHINA_TZ).astimezone(UTC)


def verify_within(session: Session, *, within: str) -> ChainReport:
    """`verify` for a caller: checking the chain reads every entry, so city-level staff only."""
    regions.require_city_level(within, "核验审计链须读取全市的全部记录，仅限市级管理人员")
    return verify(session)


HEAD_STAMP_ACTION = "audit.head_stamp"


def stamp_head(session: Session) -> AuditEntry:
    """Appends the chain's current head (entry count, last hash, its time) as an entry of the
    chain itself (the worker's daily job): whoever kept an earlier head, or reads a stamp, can
    tell that a rewritten history no longer holds it (`verify(against=...)`)."""
    if is_postgresql(session):  # the head read is the one the stamp chains onto
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    current = head(session)
    return append(
        session,
        actor_id=None,
        action=HEAD_STAMP_ACTION,
        entity="audit",
        entity_id=current.entries,
        data={
            "previous_head": current.head_hash,
            "entries": current.entries,
            "head_at": _timestamp(current.at) if current.at else None,
        },
    )
