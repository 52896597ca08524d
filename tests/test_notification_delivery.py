"""Delivering notices with real servers: aiosmtpd for e-mail, a local HTTP server for the SMS
webhook. The worker's functions run directly, on the test's rolled-back session."""

import email
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from domain.vocabulary import DeliveryStatus
from models.notification import Delivery
from models.user import User
from services.accounts import users as accounts
from services.notifications import delivery
from tests.conftest import scope_of
from tests.factories import auth, submitted_filing

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def sms_webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def moment() -> Iterator[list[datetime]]:
    """A clock the test moves by hand (`moment[0] += ...`)."""
    now = [START]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


def configure(monkeypatch: pytest.MonkeyPatch, *, smtp_port: int, sms_url: str) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_url", f"smtp://127.0.0.1:{smtp_port}")
    monkeypatch.setattr(settings, "mail_from", "备案系统 <noreply@filing.example.test>")
    monkeypatch.setattr(settings, "sms_webhook_url", sms_url)


def add_account(session: Session, operator: User, suffix: str, **contact: str) -> User:
    user = accounts.create_user(
        session,
        username=f"{operator.username}_{suffix}",
        password="another-secret-1",
        role="operator",
        jurisdiction=operator.jurisdiction,
        display_name=f"账号{suffix}",
        enterprise_id=operator.enterprise_id,
    )
    for key, value in contact.items():
        setattr(user, key, value)
    session.add(user)
    session.flush()
    return user


CORRECTIONS = [
    {"field": "outlet.address", "reason": "门牌号缺失"},
    {"document": "premises_photo", "reason": "照片看不清门头"},
]


def return_a_filing(client: TestClient, operator: User, reviewer: User) -> None:
    filing = submitted_filing(client, operator)
    response = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "return", "corrections": CORRECTIONS},
        headers=auth(reviewer),
    )
    assert response.status_code == 200, response.text


def test_a_returned_filing_is_mailed_once_to_each_account_even_when_the_server_was_down(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    sms_webhook: tuple[str, list[dict[str, Any]]],
    moment: list[datetime],
) -> None:
    sms_url, texts = sms_webhook
    smtp_port = free_port()  # nothing listens there yet: the mail server is down
    configure(monkeypatch, smtp_port=smtp_port, sms_url=sms_url)
    operator.email, operator.mobile = "owner@example.test", "13800001234"
    session.add(operator)
    clerk = add_account(session, operator, "clerk", email="clerk@example.test")
    add_account(session, operator, "nomail")  # no address: in-app only
    return_a_filing(client, operator, reviewer)
    scope = scope_of(session)

    first = delivery.drain(scope)
    assert (first.sent, first.retried) == (1, 2)  # the SMS went; both e-mails wait
    assert len(texts) == 1 and texts[0]["to"] == "13800001234"
    assert texts[0]["kind"] == "filing_returned" and "门牌号缺失" in texts[0]["text"]
    waiting = session.exec(select(Delivery).where(Delivery.status == DeliveryStatus.PENDING)).all()
    assert {d.address for d in waiting} == {"owner@example.test", "clerk@example.test"}
    assert all(d.attempts == 1 and d.last_error for d in waiting)
    assert delivery.drain(scope).claimed == 0  # not due again before the backoff

    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        moment[0] += delivery.backoff(1) + timedelta(seconds=1)
        second = delivery.drain(scope)
        assert (second.sent, second.retried) == (2, 0)
        moment[0] += timedelta(days=1)
        assert delivery.drain(scope).claimed == 0  # sent is sent: never again
    finally:
        server.stop()

    assert len(handler.messages) == 2
    for address in ("owner@example.test", clerk.email or ""):
        [message] = handler.to(address)
        assert "备案退回补正" in message["Subject"]
        body = message.get_content()
        for text in ("详细地址", "门牌号缺失", "场所照片", "照片看不清门头"):
            assert text in body
        assert "https://filing.example.test/my/filings/" in body
    assert len(texts) == 1


def test_a_claim_is_a_lease_a_crashed_worker_loses_nothing_and_retries_end(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    moment: list[datetime],
) -> None:
    configure(monkeypatch, smtp_port=free_port(), sms_url="")
    monkeypatch.setattr(get_settings(), "sms_webhook_url", None)
    operator.email = "owner@example.test"
    session.add(operator)
    return_a_filing(client, operator, reviewer)
    scope = scope_of(session)

    with scope() as claiming:
        [claimed] = delivery.claim(claiming)  # a worker claims, then dies before sending
    with scope() as other:
        assert delivery.claim(other) == []  # held by the lease
    moment[0] += delivery.LEASE + timedelta(seconds=1)
    sent: list[int] = []
    report = delivery.run_once(scope, sender=lambda item: sent.append(item.id))
    assert report.sent == 1 and sent == [claimed.id]
    with scope() as late:
        delivery.mark_sent(late, claimed)  # the dead worker's late report changes nothing
        row = late.get(Delivery, claimed.id)
        assert row is not None and row.status == DeliveryStatus.SENT and row.attempts == 2

    # Waits grow and are capped at an hour.
    assert delivery.backoff(1) < delivery.backoff(2) < delivery.backoff(30) == delivery.MAX_DELAY
    assert delivery.backoff(10_000) == delivery.MAX_DELAY


def test_a_mail_server_down_over_a_weekend_loses_nothing_and_retries_end_after_three_days(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    moment: list[datetime],
) -> None:
    smtp_port = free_port()  # down
    configure(monkeypatch, smtp_port=smtp_port, sms_url="")
    monkeypatch.setattr(get_settings(), "sms_webhook_url", None)
    operator.email = "owner@example.test"
    session.add(operator)
    return_a_filing(client, operator, reviewer)
    scope = scope_of(session)
    written = moment[0]
    while moment[0] < written + timedelta(hours=60):  # Friday evening to Monday morning
        delivery.drain(scope)
        moment[0] += timedelta(minutes=20)
    [waiting] = session.exec(select(Delivery)).all()
    assert waiting.status == DeliveryStatus.PENDING and waiting.attempts > 20
    assert waiting.last_error == "ConnectionRefusedError"

    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        moment[0] += delivery.MAX_DELAY
        assert delivery.drain(scope).sent == 1
    finally:
        server.stop()
    assert len(handler.to("owner@example.test")) == 1

    # Down for good: tried until three days after it was written, then given up.
    return_a_filing(client, operator, reviewer)
    written = moment[0]
    while moment[0] < written + timedelta(days=3, hours=2):
        delivery.drain(scope)
        moment[0] += timedelta(minutes=30)
    failing = session.exec(select(Delivery).where(col(Delivery.id) != waiting.id)).one()
    assert failing.status == DeliveryStatus.FAILED and failing.attempts > 60
    assert failing.last_error == "ConnectionRefusedError"
    assert failing.body  # an ordinary notice keeps its text (only reset links are blanked)


def test_a_claim_taken_over_after_its_lease_is_not_marked_sent_twice(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    moment: list[datetime],
) -> None:
    configure(monkeypatch, smtp_port=free_port(), sms_url="")
    monkeypatch.setattr(get_settings(), "sms_webhook_url", None)
    operator.email = "owner@example.test"
    session.add(operator)
    return_a_filing(client, operator, reviewer)
    scope = scope_of(session)
    with scope() as first_worker:
        [slow] = delivery.claim(first_worker)  # a worker claims, then hangs past its lease
    moment[0] += delivery.LEASE + timedelta(seconds=1)
    with scope() as second_worker:
        [fresh] = delivery.claim(second_worker)  # another takes the delivery over
    assert fresh.id == slow.id and fresh.lease > slow.lease
    with scope() as late:
        assert delivery.mark_sent(late, slow) is False  # the stale claim records nothing
        assert delivery.mark_failed(late, slow, "TimeoutError") is False
    row = session.get(Delivery, slow.id)
    assert row is not None and row.status == DeliveryStatus.PENDING
    with scope() as current:
        assert delivery.mark_sent(current, fresh) is True
        assert delivery.mark_sent(current, fresh) is False  # sent once: not again
    session.refresh(row)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2


def test_each_send_starts_inside_its_own_fresh_lease(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    moment: list[datetime],
) -> None:
    configure(monkeypatch, smtp_port=free_port(), sms_url="")
    monkeypatch.setattr(get_settings(), "sms_webhook_url", None)
    operator.email = "owner@example.test"
    session.add(operator)
    for suffix in ("b", "c", "d"):
        add_account(session, operator, suffix, email=f"{suffix}@example.test")
    return_a_filing(client, operator, reviewer)
    leases_left: list[timedelta] = []

    def slow_sender(item: delivery.Outgoing) -> None:
        leases_left.append(item.lease - clock.now())
        moment[0] += delivery.LEASE * 0.6  # each send is slow; together they outlast a lease

    report = delivery.run_once(scope_of(session), sender=slow_sender)
    assert report.sent == 4
    assert all(left == delivery.LEASE for left in leases_left), leases_left
    assert timedelta(seconds=6 * delivery.SEND_TIMEOUT) * 3 <= delivery.LEASE


def test_errors_are_kept_and_logged_without_secrets_or_addresses(
    client: TestClient,
    session: Session,
    operator: User,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    moment: list[datetime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Refusing(Inbox):
        async def handle_RCPT(
            self, _server: Any, _session: Any, _envelope: Any, address: str, _options: Any
        ) -> str:
            return f"550 5.1.1 <{address}>: no such user"

    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    webhook = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=webhook.serve_forever, daemon=True)
    thread.start()
    smtp_port = free_port()
    smtp = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    secret = "KEY-s3cr3t-0123456789"
    try:
        sms_url = f"http://127.0.0.1:{webhook.server_address[1]}/sms?key={secret}"
        configure(monkeypatch, smtp_port=smtp_port, sms_url=sms_url)
        operator.email, operator.mobile = "private.person@example.test", "13800001234"
        session.add(operator)
        return_a_filing(client, operator, reviewer)
        with caplog.at_level("WARNING", logger="outlet_filing.notifications"):
            report = delivery.drain(scope_of(session))
    finally:
        smtp.stop()
        webhook.shutdown()
        webhook.server_close()
        thread.join(timeout=5)
    assert report.retried == 2
    rows = session.exec(select(Delivery).order_by(col(Delivery.channel))).all()
    errors = {row.channel: row.last_error for row in rows}
    assert errors == {
        "email": "SMTPRecipientsRefused: SMTP 550",
        "sms": "HTTPStatusError: HTTP 500",
    }
    for leaked in (secret, "private.person", "13800001234"):
        assert leaked not in caplog.text
    assert {str(row.id) for row in rows} <= {
        word for record in caplog.records for word in record.getMessage().split()
    }


def test_serve_runs_the_worker_unless_told_not_to_and_worker_is_a_command() -> None:
    from cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["serve"]).no_worker is False
    assert parser.parse_args(["serve", "--no-worker"]).no_worker is True
    worker = parser.parse_args(["worker", "--once"])
    assert worker.once is True and worker.func.__name__ == "cmd_worker"
