"""A committed plan drawn by two admins at once through a live server: one draw, one 409; then
`outlet-filing verify-draw` re-runs it from the public URL alone."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

from cli import main as cli
from core.db import session_scope
from core.security import create_access_token
from models.base import pk
from schemas.inspections import PlanCreate
from services.inspections import directories, plans
from tests.factories import filed_via_services, make_enterprise, make_staff, operator_of

COUNTY = "451123"  # 富川: only the committed-data tests file outlets here
TOWNSHIPS = ["451123100", "451123101", "451123102"]


def _announced_plan() -> tuple[int, list[str]]:
    with session_scope() as session:
        admins = [make_staff(session, role="admin", jurisdiction=COUNTY) for _ in range(2)]
        reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
        operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
        for n in range(6):
            filed_via_services(
                session,
                operator,
                reviewer,
                county_code=COUNTY,
                township_code=TOWNSHIPS[n % 3],
                name=f"富川抽查网点{n}",
                opened_on="2026-11-01",
            )
        for n in range(3):
            directories.create_inspector(
                session,
                admin=admins[0],
                name=f"富川检查员{n}",
                certificate_no=f"FC-{reviewer.id}-{n}",
                jurisdiction=COUNTY,
                active=True,
                conflicts=[],
                username=None,
            )
        plan = plans.create_plan(
            session,
            admin=admins[0],
            body=PlanCreate.model_validate(
                {
                    "name": "富川并发抽取测试",
                    "region_code": COUNTY,
                    "item_codes": ["service_quality"],
                    "sampling": {"mode": "count", "count": 3},
                    "team_size": 2,
                    "exclude_recent_days": 0,
                    "period_start": date(2026, 12, 1),
                    "period_end": date(2026, 12, 31),
                    "randomness_sources": "测试用随机数",
                }
            ),
        )
        plans.announce(session, plan, admin=admins[0])
        tokens = [create_access_token(pk(admin)) for admin in admins]
    return pk(plan), tokens


@pytest.mark.usefixtures("engine")
def test_concurrent_draws_give_one_winner_and_the_public_url_verifies(
    live_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_id, tokens = _announced_plan()

    def attempt(token: str) -> int:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            return http.post(
                f"/api/v1/inspection-plans/{plan_id}/draw",
                json={"sources": [[7, 1], [42]]},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(attempt, tokens))
    assert statuses == [200, 409]
    url = f"{live_server}/api/v1/public/inspection-plans/{plan_id}"
    assert cli.main(["verify-draw", url]) == 0
    assert capsys.readouterr().out.strip().endswith("verified")
