"""Two app instances behind no shared disk (SPEC §11): separate processes started with
`outlet-filing serve`, separate DATA_DIRs, one database (the suite's: SQLite file or PostgreSQL),
one S3 server, one SECRET_KEY and RECEIPT_SIGNING_KEY, one SMTP server. What one instance does
the other sees: documents, sessions, idempotent retries, login throttling, the public receipt
check after a revocation, and each notice is mailed once although both run a delivery worker.

Committed data, in 钟山 (451122), township 451122105 (only this test files there).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import col, select

from core.config import get_settings
from core.db import session_scope
from models.base import pk
from models.filing import Filing
from services.receipts import signing
from tests.factories import (
    PASSWORD,
    filing_body,
    make_enterprise,
    make_staff,
    operator_of,
    sample_png,
    submitted_via_services,
)
from tests.s3server import S3Server

ROOT = Path(__file__).resolve().parent.parent
COUNTY, TOWNSHIP = "451122", "451122105"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Instance:
    """`outlet-filing serve` in its own process with its own DATA_DIR."""

    def __init__(self, name: str, data_dir: Path, environment: dict[str, str]) -> None:
        self.name = name
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **environment, "DATA_DIR": str(data_dir)}
        command = [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"instance {self.name} exited"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"instance {self.name} did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    yield box, port
    server.stop()


@pytest.fixture
def instances(
    engine: Engine, s3_server: S3Server, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> Iterator[tuple[Instance, Instance]]:
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    shared = {
        **s3_server.environment(f"two-instances-{uuid.uuid4().hex[:8]}"),
        "DATABASE_URL": get_settings().sqlalchemy_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "RECEIPT_SIGNING_KEY": key.decode(),
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox[1]}",
        "MAIL_FROM": "noreply@filing.example.test",
        "PUBLIC_BASE_URL": "http://filing.example.test",
        "LOG_LEVEL": "WARNING",
    }
    from core.storage import S3Storage, s3_client

    S3Storage(s3_client(s3_server.endpoint_url, "us-east-1"), shared["S3_BUCKET"]).ensure_bucket()
    first = Instance("A", tmp_path / "a", shared)
    second = Instance("B", tmp_path / "b", shared)
    try:
        first.wait_ready()
        second.wait_ready()
        yield first, second
    finally:
        first.stop()
        second.stop()


def _login(http: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return http.post("/api/v1/auth/token", data={"username": username, "password": password})


def _bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _wait_for(condition: Any, *, seconds: float, step: float = 0.02) -> float:
    """Polls until `condition()` is true; the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "did not happen in time"
        time.sleep(step)
    return time.monotonic() - started


def test_two_instances_share_everything_but_their_disks(
    instances: tuple[Instance, Instance], mailbox: tuple[Mailbox, int]
) -> None:
    a, b = instances
    box, _ = mailbox
    with session_scope() as session:
        reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        operator.email = f"op-{uuid.uuid4().hex[:8]}@example.test"
        session.add(operator)
        submitted = submitted_via_services(
            session, operator, county_code=COUNTY, township_code=TOWNSHIP, opened_on="2026-11-01"
        )
        names = (reviewer.username, operator.username, operator.email)
        filing_id, enterprise_id = pk(submitted), operator.enterprise_id
    reviewer_name, operator_name, operator_email = names

    with (
        httpx.Client(base_url=a.url, timeout=30) as on_a,
        httpx.Client(base_url=b.url, timeout=30) as on_b,
    ):
        # A session begun on A is good on B.
        as_operator = _bearer(_login(on_a, operator_name))
        assert on_b.get("/api/v1/auth/me", headers=as_operator).json()["username"] == operator_name

        # An idempotent retry that lands on the other instance replays the first answer.
        body = filing_body(county_code=COUNTY, township_code=TOWNSHIP, opened_on="2026-11-01")
        retry = {**as_operator, "Idempotency-Key": uuid.uuid4().hex}
        created = on_a.post("/api/v1/filings", json=body, headers=retry)
        replayed = on_b.post("/api/v1/filings", json=body, headers=retry)
        assert created.status_code == replayed.status_code == 201
        assert replayed.json()["id"] == created.json()["id"]
        with session_scope() as session:
            drafts = session.exec(
                select(Filing).where(
                    col(Filing.enterprise_id) == enterprise_id, Filing.status == "draft"
                )
            ).all()
            assert [pk(draft) for draft in drafts].count(created.json()["id"]) == 1
            assert len(drafts) == 1, "the retry created nothing"

        # A document uploaded on A is downloaded from B; neither instance keeps it on disk.
        photo = sample_png((17, 23))
        uploaded = on_a.post(
            f"/api/v1/filings/{created.json()['id']}/documents",
            data={"kind": "premises_photo"},
            files={"file": ("shop.png", photo, "image/png")},
            headers=as_operator,
        )
        assert uploaded.status_code == 201, uploaded.text
        document = uploaded.json()
        download = on_b.get(
            f"/api/v1/filings/{created.json()['id']}/documents/{document['id']}",
            headers=as_operator,
        )
        assert download.status_code == 200 and download.content == photo
        for instance in (a, b):
            files = instance.data_dir / "files"
            assert not files.exists() or not any(p.is_file() for p in files.rglob("*"))

        # Accepted on A: the receipt is signed with the shared key and B publishes that key.
        as_reviewer = _bearer(_login(on_b, reviewer_name))
        accepted = on_a.post(
            f"/api/v1/filings/{filing_id}/review", json={"decision": "accept"}, headers=as_reviewer
        )
        assert accepted.status_code == 200, accepted.text
        receipt_no = accepted.json()["receipt_no"]
        check = on_b.get(f"/api/v1/public/receipts/{receipt_no}").json()
        assert check["status"] == "valid"
        payload = signing.verify(check["jws"], on_b.get("/api/v1/public/keys").json())
        assert payload["receipt_no"] == receipt_no

        # The e-mail of the acceptance goes out once, though both instances run a worker.
        def mailed() -> list[EmailMessage]:
            return [m for m in box.messages if m["To"] == operator_email]

        _wait_for(lambda: len(mailed()) >= 1, seconds=30, step=0.2)
        time.sleep(6)  # more than a worker round: a second copy would have come by now
        assert len(mailed()) == 1
        assert receipt_no in mailed()[0].get_content()

        # B has the answer cached; a revocation on A shows on B within a second.
        for _ in range(3):
            assert on_b.get(f"/api/v1/public/receipts/{receipt_no}").json()["status"] == "valid"
        revoked = on_a.post(
            f"/api/v1/filings/{filing_id}/revocation",
            json={"reason": "核查发现虚假材料"},
            headers=as_reviewer,
        )
        assert revoked.status_code == 200, revoked.text
        took = _wait_for(
            lambda: on_b.get(f"/api/v1/public/receipts/{receipt_no}").json()["status"] == "revoked",
            seconds=1.0,
        )
        assert took < 1.0

        # A password change on B ends the session begun on A, on both.
        changed = on_b.patch(
            "/api/v1/auth/me",
            json={"password": "Another-pass-2", "current_password": PASSWORD},
            headers=_bearer(_login(on_b, reviewer_name)),
        )
        assert changed.status_code == 200, changed.text
        assert on_a.get("/api/v1/auth/me", headers=as_reviewer).status_code == 401
        assert on_b.get("/api/v1/auth/me", headers=as_reviewer).status_code == 401

        # Failed logins on A count on B: the username is locked on both (last: the client
        # address is locked too).
        locked_after = get_settings().login_max_failures
        for attempt in range(locked_after):
            failed = (on_a if attempt % 2 else on_b).post(
                "/api/v1/auth/token", data={"username": operator_name, "password": "wrong-1"}
            )
            assert failed.status_code == 401, failed.text
        refused = _login(on_b, operator_name)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert _login(on_a, operator_name).status_code == 429
