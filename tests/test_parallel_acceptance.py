"""Real parallel requests against a live server: one winner per filing, gapless serials.

Runs on whichever database the suite runs on; on PostgreSQL every request has its own
connection, so this is true concurrency, not a simulation. Data is committed for real, in a
county (富川, 451123) that no other test files in.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlmodel import select

from core.db import session_scope
from core.security import create_access_token
from models.base import pk
from models.filing import Filing
from tests.factories import make_enterprise, make_staff, operator_of, submitted_via_services

COUNTY = "451123"
TOWNSHIPS = ["451123100", "451123101", "451123102", "451123103"]
FILINGS = 12


def _submitted_filings() -> tuple[list[int], list[str]]:
    """Twelve submitted filings and two reviewer tokens, committed."""
    with session_scope() as session:
        reviewers = [make_staff(session, role="reviewer", jurisdiction=COUNTY) for _ in range(2)]
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        ids: list[int] = []
        for n in range(FILINGS):
            filing = submitted_via_services(
                session,
                operator,
                county_code=COUNTY,
                township_code=TOWNSHIPS[n % len(TOWNSHIPS)],
                name=f"富川网点{n}",
                opened_on="2026-11-01",
            )
            ids.append(pk(filing))
        tokens = [create_access_token(pk(reviewer)) for reviewer in reviewers]
    return ids, tokens


def test_parallel_accepts_give_one_winner_each_and_gapless_serials(live_server: str) -> None:
    ids, tokens = _submitted_filings()
    jobs = [(filing_id, token) for filing_id in ids for token in tokens]

    def accept(job: tuple[int, str]) -> tuple[int, int, dict[str, Any]]:
        filing_id, token = job
        with httpx.Client(base_url=live_server, timeout=60) as http:
            response = http.post(
                f"/api/v1/filings/{filing_id}/review",
                json={"decision": "accept"},
                headers={"Authorization": f"Bearer {token}"},
            )
        return filing_id, response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(accept, jobs))

    per_filing = Counter((filing_id, status) for filing_id, status, _ in results)
    for filing_id in ids:
        assert per_filing[(filing_id, 200)] == 1, results
        assert per_filing[(filing_id, 409)] == 1, results
    losers = [body for _, status, body in results if status == 409]
    assert {body["code"] for body in losers} == {"invalid_transition"}

    with session_scope(for_write=False) as session:
        numbers = [session.get_one(Filing, filing_id).filing_no for filing_id in ids]
        all_in_county = [
            filing.filing_no
            for filing in session.exec(select(Filing).where(Filing.county_code == COUNTY)).all()
            if filing.filing_no
        ]
    assert len(set(numbers)) == FILINGS
    serials = sorted(int(number.rsplit("-", 1)[1]) for number in all_in_county)
    assert serials == list(range(1, len(serials) + 1)), "serials must be gapless from 1"
