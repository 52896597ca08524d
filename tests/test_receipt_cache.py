"""The public check is cached per worker: a status change must show at once, through a live
server and the real database (SQLite: data_version; PostgreSQL: LISTEN/NOTIFY)."""

import time

import httpx
import pytest

from core.db import session_scope
from core.security import create_access_token
from models.base import pk
from services.receipts.issuing import ReceiptCheck
from services.receipts.public_cache import PostgresReader, shared_reader
from tests.factories import filed_via_services, make_enterprise, make_staff, operator_of

COUNTY, TOWNSHIP = "451122", "451122104"


def _filed_receipt() -> tuple[str, int, str]:
    with session_scope() as session:
        reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        filing = filed_via_services(
            session,
            operator,
            reviewer,
            county_code=COUNTY,
            township_code=TOWNSHIP,
            name="缓存测试网点",
            opened_on="2026-11-01",
        )
        receipt_no = f"{filing.filing_no}-R1"
        return receipt_no, pk(filing), create_access_token(pk(reviewer))


def _counted_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The receipt numbers the live server's reader looks up in the database, once it caches."""
    reader = shared_reader()
    if isinstance(reader, PostgresReader):
        deadline = time.monotonic() + 10
        while not reader.listening:  # caching starts once the listener is connected
            assert time.monotonic() < deadline
            time.sleep(0.05)
    looked_up: list[str] = []
    lookup = reader._lookup

    def counted(receipt_no: str) -> ReceiptCheck | None:
        looked_up.append(receipt_no)
        return lookup(receipt_no)

    monkeypatch.setattr(reader, "_lookup", counted)
    return looked_up


def test_repeated_checks_of_a_receipt_read_the_database_once(
    live_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receipt_no, _filing_id, _token = _filed_receipt()
    looked_up = _counted_lookups(monkeypatch)
    with httpx.Client(base_url=live_server, timeout=30) as http:
        for _ in range(3):
            assert http.get(f"/api/v1/public/receipts/{receipt_no}").json()["status"] == "valid"
    assert looked_up.count(receipt_no) == 1


def test_a_revocation_shows_at_once_on_a_cached_receipt(
    live_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receipt_no, filing_id, token = _filed_receipt()
    looked_up = _counted_lookups(monkeypatch)
    with httpx.Client(base_url=live_server, timeout=30) as http:
        for _ in range(2):
            assert http.get(f"/api/v1/public/receipts/{receipt_no}").json()["status"] == "valid"
        assert looked_up.count(receipt_no) == 1  # "valid" is now the cached answer
        revoked = http.post(
            f"/api/v1/filings/{filing_id}/revocation",
            json={"reason": "核查发现虚假材料"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert revoked.status_code == 200
        check = http.get(f"/api/v1/public/receipts/{receipt_no}").json()
        assert check["status"] == "revoked" and check["reason"] == "核查发现虚假材料"
        assert looked_up.count(receipt_no) == 2  # read afresh, not the stale "valid"
        assert "已撤销" in http.get(f"/verify/{receipt_no}").text
