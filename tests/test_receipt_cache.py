"""The public check is cached per worker: a status change must show at once, through a live
server and the real database (SQLite: data_version; PostgreSQL: LISTEN/NOTIFY)."""

import time

import httpx

from core.db import session_scope
from core.security import create_access_token
from services.receipts.public_cache import PostgresReader, _shared_reader
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
        return receipt_no, filing.id, create_access_token(reviewer.id)  # type: ignore[return-value]


def test_a_revocation_shows_at_once_on_a_cached_receipt(live_server: str) -> None:
    receipt_no, filing_id, token = _filed_receipt()
    reader = _shared_reader()
    if isinstance(reader, PostgresReader):
        deadline = time.monotonic() + 10
        while not reader.listening:  # caching starts once the listener is connected
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with httpx.Client(base_url=live_server, timeout=30) as http:
        for _ in range(3):  # the second and third answers come from the cache
            assert http.get(f"/api/v1/public/receipts/{receipt_no}").json()["status"] == "valid"
        revoked = http.post(
            f"/api/v1/filings/{filing_id}/revocation",
            json={"reason": "核查发现虚假材料"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert revoked.status_code == 200
        check = http.get(f"/api/v1/public/receipts/{receipt_no}").json()
        assert check["status"] == "revoked" and check["reason"] == "核查发现虚假材料"
        assert "已撤销" in http.get(f"/verify/{receipt_no}").text
