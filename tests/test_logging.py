"""Logs: a request id on every response and every line; one line per committed state change,
with ids and no personal data; JSON lines when LOG_FORMAT=json."""

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.middleware import RequestIdMiddleware
from core import logs
from models.user import User
from tests.factories import auth, create_draft, filing_body

CHANGES = "outlet_filing.changes"


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/api/v1/public/receipts/451102-2026-999999-R1").headers["X-Request-ID"]
    assert len(first) == 32 and len(second) == 32 and first != second


def test_a_plain_request_id_from_the_caller_is_kept(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "edge-42.a"})
    assert response.headers["X-Request-ID"] == "edge-42.a"


def test_an_unsafe_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 65})
    assert response.headers["X-Request-ID"] != "x" * 65
    assert len(response.headers["X-Request-ID"]) == 32


def test_a_state_change_logs_one_line_with_ids_and_the_request_id(
    client: TestClient,
    session: Session,
    operator: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=CHANGES)
    session.commit()  # the fixtures' own changes are logged now, outside the request
    caplog.clear()
    response = client.post(
        "/api/v1/filings", json=filing_body(), headers={**auth(operator), "X-Request-ID": "req-1"}
    )
    assert response.status_code == 201
    lines = [r for r in caplog.records if r.name == CHANGES]
    assert [r.getMessage().split()[0] for r in lines] == ["filing.create"]
    assert f"filing={response.json()['id']}" in lines[0].getMessage()
    assert lines[0].__dict__["request_id"] == "req-1"  # set by a logging filter, untyped


def test_state_change_logs_carry_no_personal_data(
    client: TestClient,
    operator: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = filing_body()
    create_draft(client, operator)
    person = body["person_in_charge"]
    for secret in (person["id_number"], person["mobile"], person["name"]):
        assert secret not in caplog.text


def test_a_refused_change_logs_nothing(
    client: TestClient,
    operator: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=CHANGES)
    filing = create_draft(client, operator)
    caplog.clear()
    response = client.post(f"/api/v1/filings/{filing['id']}/submit", headers=auth(operator))
    assert response.status_code == 422  # documents missing: rolled back
    assert response.json()["code"] == "missing_documents"
    assert [r for r in caplog.records if r.name == CHANGES] == []


def test_json_format_writes_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", "json")
    token = logs.request_id.set("req-json")
    try:
        logging.getLogger("outlet_filing.test").info("plan.announce inspection_plan=7")
    finally:
        logs.request_id.reset(token)
        logs.configure("INFO", "console")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == "req-json"
    assert line["message"] == "plan.announce inspection_plan=7"
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_an_unexpected_error_is_a_problem_with_the_request_id_logged_beside_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert response.headers["X-Request-ID"] == "req-500"
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.__dict__["request_id"] == "req-500" and logged.exc_info is not None
