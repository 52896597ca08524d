"""Nothing acknowledged is lost when the server dies: a live server under a bounded stream of
writes (drafts, document uploads, acceptances) is killed with SIGKILL several times and
restarted. Every acknowledged write is there, filing numbers stay gapless, the audit chain
verifies, and no stored file is left that no record references (SQLite and PostgreSQL alike).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.db import get_engine, session_scope
from core.security import create_access_token
from core.storage import get_storage
from models.base import pk
from models.filing import Document, Filing, FilingRevision
from services.filings import documents
from services.filings.documents import sweep_files
from services.oversight import audit
from tests.factories import (
    filing_body,
    make_enterprise,
    make_staff,
    operator_of,
    sample_png,
    submitted_via_services,
)

ROOT = Path(__file__).resolve().parent.parent
COUNTY, TOWNSHIP = "451103", "451103101"  # 平桂区: only this test commits outlets here
SUBMITTED = 40  # filings waiting for a decision when the stream starts
KILLS = 3


class Server:
    """`uvicorn api.main:app` in its own process on the test database, restartable."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come back"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def server(engine: Engine) -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    running.stop()


def _committed_world() -> tuple[str, str, list[int]]:
    """An operator and a reviewer of 平桂区 (tokens), and submitted filings to decide."""
    with session_scope() as session:
        reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        submitted = [
            pk(
                submitted_via_services(
                    session, operator, county_code=COUNTY, township_code=TOWNSHIP
                )
            )
            for _ in range(SUBMITTED)
        ]
        return create_access_token(pk(operator)), create_access_token(pk(reviewer)), submitted


@dataclass
class Acknowledged:
    created: list[int] = field(default_factory=list)  # draft filing ids
    uploaded: list[tuple[int, str]] = field(default_factory=list)  # (filing id, sha256)
    accepted: list[int] = field(default_factory=list)  # filing ids


def _stream_of_writes(
    server: Server, operator: str, reviewer: str, submitted: list[int], stop: threading.Event
) -> Acknowledged:
    """Creates drafts, uploads a photo to each, and accepts submissions until stopped; returns
    what the server acknowledged."""
    done = Acknowledged()
    pending = list(submitted)
    as_operator = {"Authorization": f"Bearer {operator}"}
    as_reviewer = {"Authorization": f"Bearer {reviewer}"}
    body = filing_body(county_code=COUNTY, township_code=TOWNSHIP, opened_on="2026-11-01")
    with httpx.Client(base_url=server.url, timeout=5) as client:
        while not stop.is_set() and pending:
            try:
                response = client.post("/api/v1/filings", json=body, headers=as_operator)
                if response.status_code == 201:
                    draft = response.json()["id"]
                    done.created.append(draft)
                    photo = sample_png((8 + len(done.created), 8))  # a file of its own each time
                    response = client.post(
                        f"/api/v1/filings/{draft}/documents",
                        data={"kind": "premises_photo"},
                        files={"file": ("shop.png", photo, "image/png")},
                        headers=as_operator,
                    )
                    if response.status_code == 201:
                        done.uploaded.append((draft, response.json()["sha256"]))
                filing_id = pending[0]
                response = client.post(
                    f"/api/v1/filings/{filing_id}/review",
                    json={"decision": "accept"},
                    headers=as_reviewer,
                )
                if response.status_code == 200:
                    done.accepted.append(filing_id)
                    pending.pop(0)
                elif response.status_code == 409:  # accepted before the crash, answer lost
                    pending.pop(0)
                else:
                    assert response.status_code < 500, response.text
            except httpx.TransportError:
                time.sleep(0.05)  # the server is down: retry once it is back
    return done


def test_acknowledged_writes_survive_sigkill(server: Server) -> None:
    operator, reviewer, submitted = _committed_world()
    stop = threading.Event()
    outcome: list[Acknowledged] = []
    writer = threading.Thread(
        target=lambda: outcome.append(
            _stream_of_writes(server, operator, reviewer, submitted, stop)
        )
    )
    writer.start()
    for _ in range(KILLS):
        time.sleep(0.7)
        server.kill()
        server.start()
    time.sleep(0.5)
    stop.set()
    writer.join(timeout=60)
    done = outcome[0]
    created, accepted = done.created, done.accepted
    assert accepted and created and done.uploaded, "the stream made progress between the crashes"

    with Session(get_engine()) as session:
        stored = {pk(f) for f in session.exec(select(Filing).where(col(Filing.id).in_(created)))}
        assert stored == set(created)  # every acknowledged draft is there
        filed = session.exec(select(Filing).where(col(Filing.id).in_(accepted))).all()
        assert all(f.filing_no is not None for f in filed) and len(filed) == len(accepted)
        filing_nos = session.exec(
            select(Filing.filing_no).where(col(Filing.filing_no).startswith(f"{COUNTY}-"))
        ).all()
        assert all(re.fullmatch(rf"{COUNTY}-\d{{4}}-\d{{6}}", no or "") for no in filing_nos)
        numbers = sorted(int((no or "")[-6:]) for no in filing_nos)
        assert numbers == list(range(1, len(numbers) + 1))  # gapless, from 1
        assert audit.verify(session).verified
        for filing_id, sha256 in done.uploaded:  # every acknowledged upload: its row, its file
            assert session.exec(
                select(Document)
                .join(FilingRevision, col(FilingRevision.id) == Document.revision_id)
                .where(FilingRevision.filing_id == filing_id, Document.sha256 == sha256)
            ).first()
            assert get_storage().exists(sha256)

    # Files a kill left between storing and committing are swept; nothing referenced goes.
    sweep_files(session_scope, older_than=timedelta(0))
    files = {sha256 for sha256, _ in get_storage().blobs()}
    with Session(get_engine()) as session:
        assert documents.referenced(session, files) == files  # no orphan files
        assert {sha256 for _, sha256 in done.uploaded} <= files
