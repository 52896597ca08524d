"""Notice batches (SPEC §10): a large fan-out, such as a draw's notices, is one outbox row
written in the event's transaction; the worker expands it after commit.

A worker claims a pending batch for a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`; on both
databases a conditional UPDATE only one worker wins), then writes its notices in chunks, each in
its own short transaction that locks the batch row, checks the lease is still its own, writes
the chunk's notices (and their e-mail/SMS deliveries) and advances the batch's `progress` past
them. A chunk commits its notices and its progress together, so a worker that dies mid-way
leaves the batch at the last committed chunk, and whoever claims it after the lease runs out
resumes there: no notice is written twice, none is lost.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, insert, or_, update
from sqlmodel import Session, col, select

from core import clock
from core.db import is_postgresql, session_scope
from domain.vocabulary import DeliveryStatus, NoticeBatchKind
from models.base import pk, table_of
from models.notification import Delivery, NoticeBatch, Notification
from services.notifications import events
from services.notifications.delivery import SessionFactory, reading
from services.notifications.outbox import DELIVER_FOR, MAX_TITLE, absolute, channels_of

logger = logging.getLogger("outlet_filing.notifications")

# A chunk's transaction is short (about 1,200 notices for 400 inspections with teams of two);
# the lease is far longer than one chunk and is renewed by each.
CHUNK = 400
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Claim:
    id: int
    lease: datetime


def _open(now: datetime) -> list[ColumnElement[bool]]:
    return [
        col(NoticeBatch.expanded_at).is_(None),
        or_(col(NoticeBatch.claimed_until).is_(None), col(NoticeBatch.claimed_until) < now),
    ]


def anything_to_expand(session: Session) -> bool:
    query = select(col(NoticeBatch.id)).where(*_open(clock.now()))
    return session.exec(query.limit(1)).first() is not None


def claim(session: Session) -> Claim | None:
    """Claims the oldest pending batch nobody holds, for a lease."""
    now = clock.now()
    lease = now + LEASE
    query = select(col(NoticeBatch.id)).where(*_open(now)).order_by(col(NoticeBatch.id))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    for batch_id in session.exec(query.limit(5)).all():
        if batch_id is None:
            continue
        won = session.execute(
            update(NoticeBatch)
            .where(col(NoticeBatch.id) == batch_id, *_open(now))
            .values(claimed_until=lease),
            execution_options={"synchronize_session": False},
        )
        if getattr(won, "rowcount", 0) == 1:
            return Claim(batch_id, lease)
    return None


def write(session: Session, notices: Sequence[events.Notice], *, created_at: datetime) -> int:
    """What `outbox.notify` writes for each notice (one per active, distinct recipient, and its
    deliveries), in two multi-row inserts; the number of notices written."""
    rows: list[dict[str, Any]] = []
    recipients = []
    for notice in notices:
        seen: set[int] = set()
        for user in notice.users:
            if not user.active or pk(user) in seen:
                continue
            seen.add(pk(user))
            rows.append(
                {
                    "user_id": pk(user),
                    "kind": notice.kind.value,
                    "title": notice.title[:MAX_TITLE],
                    "body": notice.body,
                    "link": notice.link,
                    "created_at": created_at,
                    "read_at": None,
                }
            )
            recipients.append((user, notice))
    if not rows:
        return 0
    ids = session.execute(
        insert(table_of(Notification)).returning(
            col(Notification.id), sort_by_parameter_order=True
        ),
        rows,
    ).scalars()
    now = clock.now()
    deliveries: list[dict[str, Any]] = []
    for notification_id, (user, notice) in zip(ids, recipients, strict=True):
        url = absolute(notice.link)
        text = f"{notice.body}\n\n{url}" if url else notice.body
        deliveries.extend(
            {
                "notification_id": notification_id,
                "user_id": pk(user),
                "kind": notice.kind.value,
                "channel": channel.value,
                "address": address,
                "subject": notice.title[:MAX_TITLE],
                "body": text,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "claimed_until": None,
                "last_error": None,
                "sent_at": None,
                "created_at": now,
                "expires_at": now + DELIVER_FOR,
            }
            for channel, address in channels_of(user)
        )
    if deliveries:
        session.execute(insert(table_of(Delivery)), deliveries)
    return len(rows)


def _chunk(session: Session, batch: NoticeBatch, size: int) -> events.Chunk:
    if batch.kind == NoticeBatchKind.INSPECTIONS_DRAWN:
        plan_id = batch.payload["plan_id"]
        return events.drawn_notices(session, plan_id, after_m=batch.progress, limit=size)
    logger.error("notice batch %s has an unknown kind %s", batch.id, batch.kind)
    return events.Chunk(batch.progress, 0, [])


def expand_chunk(session: Session, held: Claim, *, size: int = CHUNK) -> tuple[int, Claim | None]:
    """Writes the next chunk of a claimed batch and advances its progress: the notices written
    and the renewed claim while more is left (None once it is expanded or when the claim was
    lost)."""
    batch = session.exec(
        select(NoticeBatch)
        .where(
            col(NoticeBatch.id) == held.id,
            col(NoticeBatch.claimed_until) == held.lease,
            col(NoticeBatch.expanded_at).is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if batch is None:  # the lease ran out and another worker holds the batch now
        logger.warning("notice batch %s was taken over; this worker stops", held.id)
        return 0, None
    chunk = _chunk(session, batch, size)
    written = write(session, chunk.notices, created_at=batch.created_at)
    now = clock.now()
    done = chunk.items < size
    lease = None if done else now + LEASE
    batch.progress = chunk.last
    batch.notices += written
    batch.claimed_until = lease
    batch.expanded_at = now if done else None
    session.add(batch)
    session.flush()
    if lease is None:
        logger.info("notice batch %s expanded: %s notices", held.id, batch.notices)
        return written, None
    return written, Claim(held.id, lease)


def expand(session_factory: SessionFactory = session_scope, *, size: int = CHUNK) -> int:
    """Expands every pending batch nobody holds, chunk by chunk; the notices written."""
    with reading(session_factory) as session:
        if not anything_to_expand(session):
            return 0  # the idle worker opens no write transaction
    written = 0
    while True:
        with session_factory() as session:
            held = claim(session)
        if held is None:
            return written
        logger.info("notice batch %s claimed", held.id)
        current: Claim | None = held
        while current is not None:
            with session_factory() as session:
                count, current = expand_chunk(session, current, size=size)
            written += count
