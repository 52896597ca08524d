"""Oversight figures on a small data set whose answers were worked out by hand, for two
jurisdictions: 八步区 (451102, 13 towns and townships) and 昭平县 (451121, 12).

Decisions fall across a weekend, across the 2026 National Day holiday and on its adjusted
working Saturday (2026-10-10), so the working-day counts are the official calendar's.
"""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypedDict

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from models.filing import Filing
from models.user import User
from schemas.inspections import PlanCreate
from services.filings import actions
from services.inspections import draws, plans, publication, results
from tests.factories import (
    auth,
    filed_via_services,
    make_enterprise,
    make_inspector,
    make_staff,
    operator_of,
    problem,
    submitted_via_services,
)


class StatsData(TypedDict):
    babu: User
    zhaoping: User
    g: Filing


@contextmanager
def on(day: str) -> Iterator[None]:
    """10:00 in China on `day`."""
    with clock.frozen_at(datetime.fromisoformat(f"{day}T02:00:00").replace(tzinfo=UTC)):
        yield


def _filed(
    session: Session,
    operator: User,
    reviewer: User,
    *,
    opened: str,
    submitted: str,
    accepted: str,
    **outlet: Any,
) -> Filing:
    with on(submitted):
        filing = submitted_via_services(session, operator, opened_on=opened, **outlet)
    with on(accepted):
        actions.accept(session, filing, reviewer=reviewer)
    return filing


@pytest.fixture
def data(session: Session) -> StatsData:
    city_reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    babu = operator_of(session, make_enterprise(session, region_code="451102"))
    zhaoping_enterprise = make_enterprise(session, region_code="451121")
    zhaoping = operator_of(session, zhaoping_enterprise)
    bb = {"county_code": "451102"}
    # A: late (26 days), accepted after a weekend: 1 working day.
    _filed(
        session,
        babu,
        city_reviewer,
        opened="2026-11-01",
        submitted="2026-11-27",
        accepted="2026-11-30",
        township_code="451102101",
        brands=["SF"],
        name="甲",
    )
    # B: accepted on the adjusted Saturday after National Day: 10-08, 10-09, 10-10 = 3.
    b = _filed(
        session,
        babu,
        city_reviewer,
        opened="2026-09-20",
        submitted="2026-09-30",
        accepted="2026-10-10",
        township_code="451102102",
        brands=["ZTO"],
        name="乙",
    )
    # C: returned across the holiday (09-30, 10-08, 10-09 = 3 > 2), then accepted after 7.
    with on("2026-09-29"):
        c = submitted_via_services(
            session,
            babu,
            opened_on="2026-09-10",
            township_code="451102101",
            brands=["SF"],
            name="丙",
            **bb,
        )
    with on("2026-10-09"):
        actions.return_for_correction(
            session,
            c,
            reviewer=city_reviewer,
            corrections=[{"field": "outlet.address", "reason": "门牌号"}],
        )
        actions.submit(session, c, actor=babu)
    with on("2026-10-19"):
        actions.accept(session, c, reviewer=city_reviewer)
    # D: an urban subdistrict (街道): not part of township coverage. Same-day decision: 0.
    _filed(
        session,
        babu,
        city_reviewer,
        opened="2026-11-20",
        submitted="2026-11-30",
        accepted="2026-11-30",
        township_code="451102001",
        brands=["SF"],
        name="丁",
    )
    # E: submitted Monday 11-16, due 11-23, still waiting on 11-30: overdue.
    with on("2026-11-16"):
        submitted_via_services(
            session, babu, opened_on="2026-11-10", township_code="451102103", name="戊"
        )
    # F: filed (2 working days) then closed: not in force, township 104 not covered.
    f = _filed(
        session,
        babu,
        city_reviewer,
        opened="2026-10-25",
        submitted="2026-11-02",
        accepted="2026-11-04",
        township_code="451102104",
        name="己",
    )
    with on("2026-11-20"):
        actions.close(session, f, actor=babu, closed_on=date(2026, 11, 20), reason="停业")
    # B's change: changed 11-10, submitted 11-27 (17 days: late), accepted 11-30 (1).
    with on("2026-11-27"):
        actions.open_new_change(
            session, b, actor=babu, changed_on=date(2026, 11, 10), reason="更名"
        )
        actions.submit(session, b, actor=babu)
    with on("2026-11-30"):
        actions.accept(session, b, reviewer=city_reviewer)
    # 昭平: G filed in 5 working days (11-19, 20, 23, 24, 25); H waiting, not yet due.
    g = _filed(
        session,
        zhaoping,
        city_reviewer,
        opened="2026-11-01",
        submitted="2026-11-18",
        accepted="2026-11-25",
        county_code="451121",
        township_code="451121100",
        brands=["JT"],
        name="庚",
    )
    with on("2026-11-27"):
        submitted_via_services(
            session,
            zhaoping,
            opened_on="2026-11-20",
            county_code="451121",
            township_code="451121101",
            name="辛",
        )
    # Inspections in 昭平: one result on time; another plan ended 09-30 with no result: overdue.
    admin = make_staff(session, role="admin", jurisdiction="451121")
    members = [make_inspector(session, admin, f"ZP-{n}", jurisdiction="451121") for n in range(2)]
    with on("2026-11-25"):
        plan = plans.create_plan(
            session,
            admin=admin,
            body=PlanCreate.model_validate(
                {
                    "name": "甲计划",
                    "region_code": "451121",
                    "item_codes": ["real_name"],
                    "sampling": {"mode": "count", "count": 1},
                    "team_size": 2,
                    "exclude_recent_days": 365,
                    "period_start": date(2026, 11, 20),
                    "period_end": date(2026, 12, 20),
                    "randomness_sources": "x",
                }
            ),
        )
        plans.announce(session, plan, admin=admin)
        draws.run_draw(session, plan, admin=admin, sources=[[1]])
        old = plans.create_plan(
            session,
            admin=admin,
            body=PlanCreate.model_validate(
                {
                    "name": "乙计划",
                    "region_code": "451121",
                    "item_codes": ["service_quality"],
                    "sampling": {"mode": "count", "count": 1},
                    "team_size": 2,
                    "exclude_recent_days": 365,
                    "period_start": date(2026, 9, 1),
                    "period_end": date(2026, 9, 30),
                    "randomness_sources": "x",
                }
            ),
        )
        plans.announce(session, old, admin=admin)
        draws.run_draw(session, old, admin=admin, sources=[[2]])
    with on("2026-11-30"):
        inspection, inspector = results.get_assigned(
            session,
            publication.publication(session, plan).assignments[0].inspection_id,
            members[0][1],
        )
        results.record_result(
            session,
            inspection,
            inspector,
            inspected_on=date(2026, 11, 25),
            outcome="rectification",
            findings="未验视",
            rectify_by=date(2026, 12, 15),
        )
    return {
        "babu": make_staff(session, role="reviewer", jurisdiction="451102"),
        "zhaoping": make_staff(session, role="reviewer", jurisdiction="451121"),
        "g": g,
    }


def overview(client: TestClient, user: User) -> dict[str, Any]:
    with on("2026-11-30"):
        response = client.get("/api/v1/stats/overview", headers=auth(user))
    assert response.status_code == 200, response.text
    return response.json()


def test_township_coverage_for_babu(client: TestClient, data: StatsData) -> None:
    coverage = overview(client, data["babu"])["coverage"]
    assert (coverage["townships"], coverage["covered"], coverage["ratio"]) == (13, 2, 0.1538)
    uncovered = [t["code"] for u in coverage["uncovered"] for t in u["townships"]]
    assert len(uncovered) == 11
    assert "451102103" in uncovered and "451102104" in uncovered  # waiting, and closed
    assert "451102101" not in uncovered and "451102001" not in uncovered  # covered; a 街道
    brands = {b["brand"]: (b["covered"], b["townships"]) for b in coverage["by_brand"]}
    assert brands == {"SF": (1, ["451102101"]), "ZTO": (1, ["451102102"])}


def test_township_coverage_for_zhaoping(client: TestClient, data: StatsData) -> None:
    coverage = overview(client, data["zhaoping"])["coverage"]
    assert (coverage["townships"], coverage["covered"], coverage["ratio"]) == (12, 1, 0.0833)
    assert [b["brand"] for b in coverage["by_brand"]] == ["JT"]


def test_filing_counts_and_late_filings(client: TestClient, data: StatsData) -> None:
    figures = overview(client, data["babu"])["filings"]
    assert figures["by_status"] == {"filed": 4, "submitted": 1, "closed": 1}
    assert figures["by_county"] == [{"county_code": "451102", "total": 6, "in_force": 4}]
    assert {b["brand"]: b["outlets_in_force"] for b in figures["by_brand"]} == {"SF": 3, "ZTO": 1}
    assert figures["late_filings"] == {"submitted": 6, "late": 1, "share": 0.1667}
    assert figures["late_changes"] == {"submitted": 1, "late": 1, "share": 1.0}
    assert overview(client, data["zhaoping"])["filings"]["by_status"] == {
        "filed": 1,
        "submitted": 1,
    }


def test_late_changes_count_only_those_submitted_after_their_tenth_day(
    client: TestClient, session: Session
) -> None:
    reviewer = make_staff(session, role="reviewer", jurisdiction="451102")
    operator = operator_of(session, make_enterprise(session, region_code="451102"))
    with on("2026-11-10"):
        on_time = filed_via_services(session, operator, reviewer, opened_on="2026-11-01")
        late = filed_via_services(session, operator, reviewer, opened_on="2026-11-01")
    with on("2026-11-30"):
        # 11-20 → 11-30 is 10 days (the last allowed); 11-19 → 11-30 is 11.
        for filing, changed_on in ((on_time, date(2026, 11, 20)), (late, date(2026, 11, 19))):
            actions.open_new_change(
                session, filing, actor=operator, changed_on=changed_on, reason="更名"
            )
            actions.submit(session, filing, actor=operator)
    figures = overview(client, reviewer)["filings"]
    assert figures["late_changes"] == {"submitted": 2, "late": 1, "share": 0.5}


def test_review_deadlines_on_the_official_calendar(client: TestClient, data: StatsData) -> None:
    babu = overview(client, data["babu"])["deadlines"]
    assert (babu["accepted"], babu["accepted_within_5_working_days"]) == (6, 5)
    assert babu["accepted_within_share"] == 0.8333
    assert (babu["returned"], babu["returned_within_2_working_days"]) == (1, 0)
    assert babu["median_working_days_to_decision"] == 2.0  # 0 1 1 2 3 3 7
    assert [o["outlet_name"] for o in babu["overdue"]] == ["戊"]
    assert babu["overdue"][0]["review_due_on"] == "2026-11-23"
    zhaoping = overview(client, data["zhaoping"])["deadlines"]
    assert (zhaoping["accepted"], zhaoping["accepted_within_share"]) == (1, 1.0)
    assert zhaoping["median_working_days_to_decision"] == 5.0
    assert zhaoping["overdue"] == []


def test_inspection_figures(client: TestClient, data: StatsData) -> None:
    zhaoping = overview(client, data["zhaoping"])["inspections"]
    assert zhaoping["plans"] == {"drawn": 2}
    assert (zhaoping["objects_drawn"], zhaoping["results_recorded"]) == (2, 1)
    assert zhaoping["outcomes"] == {"rectification": 1}
    assert zhaoping["published_within_20_working_days"] == 1
    assert zhaoping["overdue"] == 1
    assert overview(client, data["babu"])["inspections"]["objects_drawn"] == 0


def test_each_table_exports_as_csv(client: TestClient, data: StatsData) -> None:
    with on("2026-11-30"):
        response = client.get("/api/v1/stats/overview/uncovered.csv", headers=auth(data["babu"]))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["区县代码", "区县", "乡镇代码", "乡镇"]
    assert len(rows) == 12
    for table in (
        "coverage",
        "brand-coverage",
        "filings-by-status",
        "filings-by-county",
        "filings-by-brand",
        "overdue-submissions",
        "inspection-outcomes",
    ):
        with on("2026-11-30"):
            assert (
                client.get(
                    f"/api/v1/stats/overview/{table}.csv", headers=auth(data["babu"])
                ).status_code
                == 200
            )
    unknown = client.get("/api/v1/stats/overview/nope.csv", headers=auth(data["babu"]))
    assert problem(unknown) == (404, "not_found")


def test_operators_cannot_see_the_figures(
    client: TestClient, session: Session, data: StatsData
) -> None:
    operator = operator_of(session, make_enterprise(session))
    refused = client.get("/api/v1/stats/overview", headers=auth(operator))
    assert problem(refused) == (403, "forbidden")
