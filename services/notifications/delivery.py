"""Sending the outbox: e-mail through SMTP_URL, SMS through SMS_WEBHOOK_URL.

A worker claims one due delivery at a time in a short transaction (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so workers never wait on each other; on both databases the claim is a conditional UPDATE
that only one worker wins), sends it with no transaction open, then records the outcome in another
short transaction. A claim is a lease, far longer than one worst-case send (every network step has
a timeout): a worker that dies mid-send leaves a claim that expires, and the delivery is tried
again (at least once). Only the current claim may record the outcome, and once marked sent a
delivery is never claimed again. A failure is retried with exponential backoff (capped at an hour)
until the delivery expires (3 days after it was written; a password-reset link when its token
does), then it is marked failed (a reset link's body blanked). Errors are recorded and logged as
their type and protocol code only: a webhook URL may carry a key, an SMTP reply an address.
"""

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy import ColumnElement, case, or_, update
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from core.db import is_postgresql, session_scope
from domain.vocabulary import DeliveryChannel, DeliveryStatus, NotificationKind
from models.base import aware, pk
from models.notification import Delivery

logger = logging.getLogger("outlet_filing.notifications")

SessionFactory = Callable[[], AbstractContextManager[Session]]

# Every network step of a send is bounded by SEND_TIMEOUT; an SMTP send is at most about six
# steps (connect, EHLO, STARTTLS, login, MAIL/RCPT, DATA): 3 minutes. The lease is well above.
SEND_TIMEOUT = 30.0
LEASE = timedelta(minutes=15)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
EXPIRED = "expired"


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, detached from any session."""

    id: int
    channel: str
    address: str
    kind: str
    subject: str
    body: str
    lease: datetime


@dataclass
class Report:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expanded: int = 0  # notices written from notice batches (`batches`)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 30 s, 1 min, 2 min, … at most an hour."""
    return min(MAX_DELAY, BASE_DELAY * (2 ** min(max(0, attempts - 1), 20)))


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        col(Delivery.status) == DeliveryStatus.PENDING,
        col(Delivery.next_attempt_at) <= now,
        col(Delivery.expires_at) > now,
        or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
    ]


def claim(session: Session, *, limit: int = 1) -> list[Outgoing]:
    """Claims up to `limit` due deliveries for a lease; each counts as an attempt. The worker
    claims one at a time, so each send starts right after its own claim."""
    now = clock.now()
    lease = now + LEASE
    query = select(col(Delivery.id)).where(*_due(now)).order_by(col(Delivery.id)).limit(limit)
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    claimed: list[Outgoing] = []
    for delivery_id in session.exec(query).all():
        won = session.execute(
            update(Delivery)
            .where(col(Delivery.id) == delivery_id, *_due(now))
            .values(claimed_until=lease, attempts=col(Delivery.attempts) + 1),
            execution_options={"synchronize_session": False},
        )
        if getattr(won, "rowcount", 0) != 1:
            continue  # another worker was faster
        row = session.exec(
            select(Delivery)
            .where(Delivery.id == delivery_id)
            .execution_options(populate_existing=True)
        ).one()
        claimed.append(
            Outgoing(pk(row), row.channel, row.address, row.kind, row.subject, row.body, lease)
        )
    return claimed


def _mine(item: Outgoing) -> list[ColumnElement[bool]]:
    """The delivery while `item`'s claim is still the current one (nobody took it over)."""
    return [
        col(Delivery.id) == item.id,
        col(Delivery.status) == DeliveryStatus.PENDING,
        col(Delivery.claimed_until) == item.lease,
    ]


def mark_sent(session: Session, item: Outgoing) -> bool:
    """Records the send of the current claim; False (nothing changes) when the lease was taken
    over by another worker meanwhile, whose own outcome counts."""
    values: dict[str, object] = {
        "status": DeliveryStatus.SENT,
        "sent_at": clock.now(),
        "claimed_until": None,
        "last_error": None,
    }
    if item.kind == NotificationKind.PASSWORD_RESET:
        values["body"] = ""  # the one-time link is not kept once it is out
    # A lease that ran out but was not taken over still counts: the message is out.
    done = session.execute(
        update(Delivery).where(*_mine(item)).values(**values),
        execution_options={"synchronize_session": False},
    )
    return getattr(done, "rowcount", 0) == 1


def mark_failed(session: Session, item: Outgoing, error: str) -> bool:
    """Schedules the next try (never after the delivery expires), or gives up when it has
    expired; True when given up."""
    row = session.exec(
        select(Delivery)
        .where(*_mine(item))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:  # the lease expired and someone else holds it now
        return False
    now = clock.now()
    expires_at = aware(row.expires_at)
    row.last_error = error[:500]
    row.claimed_until = None
    gave_up = now >= expires_at
    if gave_up:
        row.status = DeliveryStatus.FAILED
        if row.kind == NotificationKind.PASSWORD_RESET:
            row.body = ""
    else:
        # One last try right at the deadline rather than none after it.
        row.next_attempt_at = min(now + backoff(row.attempts), expires_at)
    session.add(row)
    session.flush()
    return gave_up


def expire(session: Session) -> int:
    """Ends every pending delivery past its expiry that no worker holds: failed, and a reset
    link's body blanked. The number ended."""
    now = clock.now()
    ended = session.execute(
        update(Delivery)
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING,
            col(Delivery.expires_at) <= now,
            or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
        )
        .values(
            status=DeliveryStatus.FAILED,
            claimed_until=None,
            last_error=case(
                (col(Delivery.last_error).is_(None), EXPIRED), else_=col(Delivery.last_error)
            ),
            body=case(
                (col(Delivery.kind) == NotificationKind.PASSWORD_RESET, ""),
                else_=col(Delivery.body),
            ),
        ),
        execution_options={"synchronize_session": False},
    )
    return max(0, getattr(ended, "rowcount", 0))


def describe(error: BaseException) -> str:
    """What is kept of a failed send: the exception type and its HTTP status or SMTP code, never
    its message (a webhook URL may hold a key, an SMTP reply names recipients)."""
    name = type(error).__name__
    if isinstance(error, httpx.HTTPStatusError):
        return f"{name}: HTTP {error.response.status_code}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name}: SMTP {error.smtp_code}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(reply[0]) for reply in error.recipients.values()})
        return f"{name}: SMTP {','.join(codes)}"
    return name


# --- transports ------------------------------------------------------------------------------

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SendError(Exception):
    """A send that cannot be made as configured; its message holds no secret and is kept."""


def send_email(smtp_url: str, mail_from: str, item: Outgoing) -> None:
    parts = urlsplit(smtp_url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise SendError("SMTP_URL 应为 smtp://、smtp+starttls:// 或 smtps:// 开头的地址")
    port = parts.port or SCHEMES[parts.scheme]
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = item.address
    message["Subject"] = item.subject
    message.set_content(item.body)
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        context = ssl.create_default_context()
        server = smtplib.SMTP_SSL(parts.hostname, port, timeout=SEND_TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(parts.hostname, port, timeout=SEND_TIMEOUT)
    with server:
        if parts.scheme == "smtp+starttls":
            server.starttls(context=ssl.create_default_context())
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


def send_sms(webhook_url: str, item: Outgoing) -> None:
    text = f"【{item.subject}】{item.body}"
    response = httpx.post(
        webhook_url,
        json={"to": item.address, "kind": item.kind, "text": text},
        timeout=httpx.Timeout(SEND_TIMEOUT),
    )
    response.raise_for_status()


def send(item: Outgoing) -> None:
    settings = get_settings()
    if item.channel == DeliveryChannel.EMAIL:
        if not settings.smtp_url:
            raise SendError("未配置 SMTP_URL")
        send_email(settings.smtp_url, settings.mail_from, item)
    elif item.channel == DeliveryChannel.SMS:
        if not settings.sms_webhook_url:
            raise SendError("未配置 SMS_WEBHOOK_URL")
        send_sms(settings.sms_webhook_url, item)
    else:
        raise SendError(f"unknown channel {item.channel}")


def _error_text(error: Exception) -> str:
    if isinstance(error, SendError):
        return f"{type(error).__name__}: {error}"
    return describe(error)


def reading(session_factory: SessionFactory) -> AbstractContextManager[Session]:
    """A read-only transaction (SQLite: no write lock) for the worker's idle checks."""
    if session_factory is session_scope:
        return session_scope(for_write=False)
    return session_factory()


def anything_to_do(session: Session) -> bool:
    """A pending delivery is due or has expired (and no live claim holds it)."""
    now = clock.now()
    query = select(col(Delivery.id)).where(
        col(Delivery.status) == DeliveryStatus.PENDING,
        or_(col(Delivery.next_attempt_at) <= now, col(Delivery.expires_at) <= now),
        or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
    )
    return session.exec(query.limit(1)).first() is not None


def run_once(
    session_factory: SessionFactory = session_scope,
    *,
    limit: int = 20,
    sender: Callable[[Outgoing], None] = send,
) -> Report:
    """Sends up to `limit` due deliveries, claiming each just before its send (outside any
    transaction) and recording its outcome right after; first ends the expired ones."""
    report = Report()
    with reading(session_factory) as session:
        if not anything_to_do(session):
            return report  # the idle worker opens no write transaction
    with session_factory() as session:
        report.failed += expire(session)
    while report.claimed < limit:
        with session_factory() as session:
            items = claim(session, limit=1)
        if not items:
            break
        item = items[0]
        report.claimed += 1
        try:
            sender(item)
        except Exception as error:  # any failure of a send is retried later
            reason = _error_text(error)
            logger.warning("delivery %s by %s failed: %s", item.id, item.channel, reason)
            with session_factory() as session:
                gave_up = mark_failed(session, item, reason)
            if gave_up:
                report.failed += 1
            else:
                report.retried += 1
            continue
        with session_factory() as session:
            recorded = mark_sent(session, item)
        if recorded:
            report.sent += 1
        else:
            logger.warning("delivery %s was sent after its claim was taken over", item.id)
    return report


def drain(session_factory: SessionFactory = session_scope, *, limit: int = 20) -> Report:
    """Sends batches until nothing due is left (what is retried later stays for later)."""
    total = Report()
    while True:
        report = run_once(session_factory, limit=limit)
        total.claimed += report.claimed
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        if report.claimed < limit:
            return total


def run_round(
    session_factory: SessionFactory = session_scope,
) -> tuple[dict[str, int], Report]:
    """One round of the worker: the daily jobs not yet run today (each under its database lock),
    then the notice batches expanded (a draw's notices, written after its commit), then the
    outbox drained, so the notices just written go out in the same round. The jobs run and
    what the outbox did."""
    from services.notifications import batches, jobs  # both build on this module

    ran = jobs.run_daily(session_factory)
    expanded = batches.expand(session_factory)
    report = drain(session_factory)
    report.expanded = expanded
    return ran, report


def run_forever(
    stop: threading.Event,
    *,
    interval: float = 5.0,
    session_factory: SessionFactory = session_scope,
) -> None:
    """The worker loop: a round (`run_round`) every `interval` seconds."""
    while not stop.is_set():
        try:
            run_round(session_factory)
        except Exception:  # the loop survives a database hiccup; the next round retries
            logger.exception("notification worker round failed")
        stop.wait(interval)
