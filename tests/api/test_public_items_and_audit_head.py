"""Issue #11: the public inspection-item list with legal basis and method, and the audit chain's
published head that anyone can keep and check later (SPEC §4.1; `audit-verify --against`)."""

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cli import main as cli
from core.config import get_settings
from core.db import get_engine
from models.inspection import InspectionItem
from tests.factories import auth, make_staff, problem

CITY = "451100"
PRELOADED = {
    "filing_compliance",
    "real_name",
    "acceptance_inspection",
    "security_equipment",
    "service_quality",
    "information_security",
}


# --- GET /public/inspection-items -----------------------------------------------------------


def test_public_items_list_the_preloaded_items_with_legal_basis_and_method(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/public/inspection-items")  # anonymous

    assert response.status_code == 200
    items = {item["code"]: item for item in response.json()}
    assert set(items) >= PRELOADED
    for code in PRELOADED:
        assert set(items[code]) == {"code", "name", "legal_basis", "method"}
        assert "《" in items[code]["legal_basis"]  # names the law it checks against
        assert items[code]["method"]
    assert "快递暂行条例" in items["filing_compliance"]["legal_basis"]


def test_admin_sets_legal_basis_and_method_and_only_active_items_are_public(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    created = client.post(
        "/api/v1/inspection-items",
        json={
            "code": "night_safety",
            "name": "夜间营业安全情况",
            "legal_basis": "《快递暂行条例》第五章",
            "method": "夜间现场检查",
        },
        headers=auth(admin),
    )
    assert created.status_code == 201
    assert created.json()["legal_basis"] == "《快递暂行条例》第五章"
    assert created.json()["method"] == "夜间现场检查"

    changed = client.patch(
        "/api/v1/inspection-items/night_safety",
        json={"method": "夜间现场检查并查看监控录像"},
        headers=auth(admin),
    )
    assert changed.status_code == 200
    assert changed.json()["legal_basis"] == "《快递暂行条例》第五章"  # untouched
    assert changed.json()["method"] == "夜间现场检查并查看监控录像"

    public = {i["code"]: i for i in client.get("/api/v1/public/inspection-items").json()}
    assert public["night_safety"] == {
        "code": "night_safety",
        "name": "夜间营业安全情况",
        "legal_basis": "《快递暂行条例》第五章",
        "method": "夜间现场检查并查看监控录像",
    }

    cleared = client.patch(
        "/api/v1/inspection-items/night_safety",
        json={"legal_basis": None, "active": False},
        headers=auth(admin),
    )
    assert cleared.status_code == 200
    assert cleared.json()["legal_basis"] is None
    codes = {i["code"] for i in client.get("/api/v1/public/inspection-items").json()}
    assert "night_safety" not in codes


def test_legal_basis_and_method_are_at_most_500_characters(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)
    too_long = "条" * 501

    for field in ("legal_basis", "method"):
        response = client.post(
            "/api/v1/inspection-items",
            json={"code": f"long_{field}", "name": "过长", field: too_long},
            headers=auth(admin),
        )
        assert problem(response) == (422, "validation_error")
        assert session.get(InspectionItem, f"long_{field}") is None
        response = client.patch(
            "/api/v1/inspection-items/real_name", json={field: too_long}, headers=auth(admin)
        )
        assert problem(response) == (422, "validation_error")

    fits = client.post(
        "/api/v1/inspection-items",
        json={"code": "long_ok", "name": "刚好", "legal_basis": "条" * 500, "method": "法" * 500},
        headers=auth(admin),
    )
    assert fits.status_code == 201


# --- GET /public/audit-head -----------------------------------------------------------------


def test_audit_head_shape_and_it_moves_with_a_state_change(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction=CITY)  # itself audited
    before = client.get("/api/v1/public/audit-head")  # anonymous
    assert before.status_code == 200
    head = before.json()
    assert set(head) == {"entries", "head_hash", "at"}
    assert head["entries"] >= 1
    assert re.fullmatch(r"[0-9a-f]{64}", head["head_hash"])
    assert datetime.fromisoformat(head["at"]).utcoffset() is not None  # with its offset

    created = client.post(
        "/api/v1/inspection-items",
        json={"code": "head_moves", "name": "审计链头变化"},
        headers=auth(admin),
    )
    assert created.status_code == 201

    after = client.get("/api/v1/public/audit-head").json()
    assert after["entries"] == head["entries"] + 1
    assert after["head_hash"] != head["head_hash"]
    assert datetime.fromisoformat(after["at"]) >= datetime.fromisoformat(head["at"])


# --- outlet-filing audit-verify --against HEAD_HASH -----------------------------------------


@pytest.fixture
def scratch_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'audit-head.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade(url)
    yield tmp_path
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def _append(count: int) -> None:
    from core.db import session_scope
    from services.oversight import audit

    with session_scope() as session:
        for n in range(count):
            audit.append(session, actor_id=None, action="test.event", entity="x", entity_id=n)


def _kept_head() -> str:
    from core.db import session_scope
    from services.oversight import audit

    with session_scope(for_write=False) as session:
        return audit.head(session).head_hash


def test_audit_verify_against_a_kept_head_passes_and_a_forged_one_fails(
    scratch_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _append(3)
    kept = _kept_head()
    _append(2)  # the chain grows after the head was kept: still fine

    assert cli.main(["audit-verify", "--against", kept]) == 0
    assert kept in capsys.readouterr().out

    forged = "ab" * 32
    assert cli.main(["audit-verify", "--against", forged]) == 1
    assert forged in capsys.readouterr().err
    assert cli.main(["audit-verify"]) == 0  # the chain itself is intact


def test_audit_verify_against_finds_a_rewritten_history(
    scratch_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Edit an old entry and recompute every hash after it: the chain verifies on its own, but
    no longer holds the head someone kept."""
    from sqlmodel import col, select

    from core.db import session_scope
    from models.audit import AuditEntry
    from services.oversight import audit

    _append(4)
    kept = _kept_head()
    with session_scope() as session:
        previous = audit.GENESIS_HASH
        for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all():
            if entry.id == 2:
                entry.action = "forged"
            entry.prev_hash = previous
            entry.hash = audit.entry_hash(entry)
            previous = entry.hash
            session.add(entry)

    assert cli.main(["audit-verify"]) == 0
    assert cli.main(["audit-verify", "--against", kept]) == 1
    assert kept in capsys.readouterr().err


def test_audit_verify_against_refuses_what_is_not_a_hash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["audit-verify", "--against", "not-a-hash"])
    assert exit_.value.code == 2
    assert "64" in capsys.readouterr().err
