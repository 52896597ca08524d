"""Cost of one filing acceptance end to end (HTTP, number allocation, audit entry, commit),
against a baseline measured in the same run: an authenticated GET of the same filing.

    .venv/bin/python bench/accept.py [N]      (BENCH_DATABASE_URL=postgresql+psycopg://… for PG)
"""

import random
import statistics
import sys
from datetime import UTC, datetime

from _setup import approved_operator, ms, prepare_database, timed

from services.filings import actions, documents

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def main() -> None:
    url = prepare_database()
    from fastapi.testclient import TestClient

    from api.main import app
    from cli.demo import filing_content
    from core.db import session_scope
    from core.security import create_access_token
    from models.base import pk
    from models.region import Region
    from services.accounts import users as accounts

    with session_scope() as session:
        reviewer = accounts.create_user(
            session,
            username="bench-reviewer",
            password="x" * 12,
            role="reviewer",
            jurisdiction="451100",
            display_name="bench",
        )
        operator = approved_operator(session, approver=reviewer, password="x" * 12)
        assert operator is not None
        township = session.get(Region, "451102101")
        assert township is not None
        rng = random.Random(1)
        opened = datetime(2026, 11, 1, tzinfo=UTC)
        ids = []
        for n in range(N):
            raw = filing_content(
                township=township,
                operator_name="基准测试",
                brand="SF",
                index=n * 5,  # self-operated: no partner documents
                opened=opened,
                rng=rng,
            )
            filing = actions.create(session, operator=operator, raw=raw)
            for kind in ("business_licence", "id_document", "premises_photo"):
                documents.add_document(
                    session,
                    filing,
                    actor=operator,
                    file=documents.StoredFile(kind, "x.pdf", "application/pdf", 1, "0" * 64),
                )
            actions.submit(session, filing, actor=operator)
            ids.append(filing.id)
        token = create_access_token(pk(reviewer))
    headers = {"Authorization": f"Bearer {token}"}
    client = TestClient(app)
    pending = iter(ids)
    baseline = timed(lambda: client.get(f"/api/v1/filings/{ids[0]}", headers=headers), N)
    accepts = timed(
        lambda: client.post(
            f"/api/v1/filings/{next(pending)}/review", json={"decision": "accept"}, headers=headers
        ),
        N,
    )
    base, cost = statistics.median(baseline), statistics.median(accepts)
    print(f"database: {url.split(':')[0]}  filings accepted: {N}")
    print(f"baseline GET /filings/{{id}}: median {ms(base)}")
    print(
        f"accept (number + audit + commit): median {ms(cost)}  ratio to baseline {cost / base:.2f}x"
    )


if __name__ == "__main__":
    main()
