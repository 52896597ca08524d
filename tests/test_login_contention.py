"""Eight anonymous clients logging in without pause must not stall anybody's writes (issue #10
item 3): a live server on loopback, the real (committing) database, eight login loops and a
stream of unrelated writes (an operator editing its draft). No 5xx, every write completes, none
waits long. Before the fix, SQLite ran Argon2 inside each login's BEGIN IMMEDIATE, so a write
queued behind the logins for seconds (and timed out into 500 `database is locked`).

Data is committed in 富川 (451123) as a draft only: no filing number, no directory entry.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import select

from core.db import session_scope
from core.security import create_access_token
from models.base import pk
from models.filing import FilingRevision
from tests.factories import PASSWORD, draft_via_services, make_enterprise, make_staff, operator_of

COUNTY, TOWNSHIP = "451123", "451123100"
LOGINS = 8
WRITES = 30
SLOWEST_WRITE = 2.0  # seconds; a write takes tens of milliseconds here even with logins running


def _committed_data() -> tuple[list[str], int, str]:
    """Eight staff logins, and a draft filing with its operator's token."""
    with session_scope() as session:
        usernames = [
            make_staff(session, role="reviewer", jurisdiction=COUNTY).username
            for _ in range(LOGINS)
        ]
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        filing = draft_via_services(
            session,
            operator,
            county_code=COUNTY,
            township_code=TOWNSHIP,
            name="富川登录并发测试网点",
            opened_on="2026-11-01",
        )
        return usernames, pk(filing), create_access_token(pk(operator))


def test_eight_concurrent_logins_do_not_stall_writes(live_server: str) -> None:
    usernames, filing_id, operator_token = _committed_data()
    stop = threading.Event()
    login_statuses: list[int] = []

    def keep_logging_in(username: str) -> None:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            while not stop.is_set():
                response = http.post(
                    "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
                )
                login_statuses.append(response.status_code)

    writes: list[tuple[int, float]] = []
    with ThreadPoolExecutor(max_workers=LOGINS) as pool:
        loops = [pool.submit(keep_logging_in, username) for username in usernames]
        try:
            time.sleep(0.5)  # the logins are under way
            with httpx.Client(base_url=live_server, timeout=30) as http:
                for n in range(WRITES):
                    started = time.perf_counter()
                    response = http.patch(
                        f"/api/v1/filings/{filing_id}",
                        json={"outlet": {"name": f"富川登录并发测试网点{n}"}},
                        headers={"Authorization": f"Bearer {operator_token}"},
                    )
                    writes.append((response.status_code, time.perf_counter() - started))
                    if response.status_code != 200 or writes[-1][1] > SLOWEST_WRITE:
                        break  # failed: no need to wait for the rest
        finally:
            stop.set()
            for loop in loops:
                loop.result()

    assert [status for status, _ in writes] == [200] * WRITES, writes
    slowest = max(seconds for _, seconds in writes)
    print(f"{len(login_statuses)} logins; writes: slowest {slowest:.3f} s")
    assert slowest < SLOWEST_WRITE, f"a write waited {slowest:.2f} s behind the logins"
    assert len(login_statuses) >= LOGINS
    assert set(login_statuses) == {200}, sorted(set(login_statuses))

    with session_scope(for_write=False) as session:
        names = [
            revision.outlet_name
            for revision in session.exec(
                select(FilingRevision).where(FilingRevision.filing_id == filing_id)
            ).all()
        ]
    assert names == [f"富川登录并发测试网点{WRITES - 1}"]
