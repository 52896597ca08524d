"""Sending the outbox: e-mail through SMTP_URL, SMS through SMS_WEBHOOK_URL.

A worker claims due deliveries in a short transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
workers never wait on each other; on both databases the claim is a conditional UPDATE that only
one worker wins), sends with no transaction open, then records the outcome in another short
transaction. A claim is a lease: a worker that dies mid-send leaves a claim that expires, and the
delivery is tried again (at least once). Once marked sent, a delivery is never claimed again.
A failure is retried with exponential backoff (capped) until MAX_ATTEMPTS, then marked failed.
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
from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from core.db import is_postgresql, session_scope
from domain.vocabulary import DeliveryChannel, DeliveryStatus, NotificationKind
from models.base import pk
from models.notification import Delivery

logger = logging.getLogger("outlet_filing.notifications")

SessionFactory = Callable[[], AbstractContextManager[Session]]

LEASE = timedelta(minutes=5)  # longer than any send (timeouts are 30 s)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 10
SEND_TIMEOUT = 30.0


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


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 30 s, 1 min, 2 min, … at most an hour."""
    return min(MAX_DELAY, BASE_DELAY * (2 ** max(0, attempts - 1)))


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        col(Delivery.status) == DeliveryStatus.PENDING,
        col(Delivery.next_attempt_at) <= now,
        or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
    ]


def claim(session: Session, *, limit: int = 20) -> list[Outgoing]:
    """Claims up to `limit` due deliveries for a lease; each counts as an attempt."""
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
    return [
        col(Delivery.id) == item.id,
        col(Delivery.status) == DeliveryStatus.PENDING,
        col(Delivery.claimed_until) == item.lease,
    ]


def mark_sent(session: Session, item: Outgoing) -> None:
    values: dict[str, object] = {
        "status": DeliveryStatus.SENT,
        "sent_at": clock.now(),
        "claimed_until": None,
        "last_error": None,
    }
    if item.kind == NotificationKind.PASSWORD_RESET:
        values["body"] = ""  # the one-time link is not kept once it is out
    # Sent is sent, even when the lease ran out meanwhile (another try would send it twice).
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == item.id, col(Delivery.status) == DeliveryStatus.PENDING)
        .values(**values),
        execution_options={"synchronize_session": False},
    )


def mark_failed(session: Session, item: Outgoing, error: str) -> bool:
    """Schedules the next try, or gives up after MAX_ATTEMPTS; True when given up."""
    row = session.exec(
        select(Delivery)
        .where(*_mine(item))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:  # the lease expired and someone else holds it now
        return False
    row.last_error = error[:500]
    row.claimed_until = None
    gave_up = row.attempts >= MAX_ATTEMPTS
    if gave_up:
        row.status = DeliveryStatus.FAILED
        if row.kind == NotificationKind.PASSWORD_RESET:
            row.body = ""
    else:
        row.next_attempt_at = clock.now() + backoff(row.attempts)
    session.add(row)
    session.flush()
    return gave_up


# --- transports ------------------------------------------------------------------------------

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def send_email(smtp_url: str, mail_from: str, item: Outgoing) -> None:
    parts = urlsplit(smtp_url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError("SMTP_URL 应为 smtp://、smtp+starttls:// 或 smtps:// 开头的地址")
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
        timeout=SEND_TIMEOUT,
    )
    response.raise_for_status()


def send(item: Outgoing) -> None:
    settings = get_settings()
    if item.channel == DeliveryChannel.EMAIL:
        if not settings.smtp_url:
            raise RuntimeError("未配置 SMTP_URL")
        send_email(settings.smtp_url, settings.mail_from, item)
    elif item.channel == DeliveryChannel.SMS:
        if not settings.sms_webhook_url:
            raise RuntimeError("未配置 SMS_WEBHOOK_URL")
        send_sms(settings.sms_webhook_url, item)
    else:
        raise RuntimeError(f"unknown channel {item.channel}")


def run_once(
    session_factory: SessionFactory = session_scope,
    *,
    limit: int = 20,
    sender: Callable[[Outgoing], None] = send,
) -> Report:
    """Claims one batch, sends each outside any transaction, records each outcome."""
    report = Report()
    with session_factory() as session:
        items = claim(session, limit=limit)
    report.claimed = len(items)
    for item in items:
        try:
            sender(item)
        except Exception as error:  # any failure of a send is retried later
            logger.warning("delivery %s by %s failed: %s", item.id, item.channel, error)
            with session_factory() as session:
                gave_up = mark_failed(session, item, f"{type(error).__name__}: {error}")
            if gave_up:
                report.failed += 1
            else:
                report.retried += 1
            continue
        with session_factory() as session:
            mark_sent(session, item)
        report.sent += 1
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


def run_forever(
    stop: threading.Event,
    *,
    interval: float = 5.0,
    session_factory: SessionFactory = session_scope,
) -> None:
    """The worker loop: daily jobs (each under its database lock), then the outbox."""
    from services.notifications import jobs

    while not stop.is_set():
        try:
            jobs.run_daily(session_factory)
            drain(session_factory)
        except Exception:  # the loop survives a database hiccup; the next round retries
            logger.exception("notification worker round failed")
        stop.wait(interval)
