"""Double random, one public, through the API: plan, announce, draw, teams, results, publication."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from cli import main as cli
from models.enterprise import Enterprise
from models.filing import Filing
from models.inspection import Inspection, Inspector
from models.user import User
from services.oversight import audit
from tests.factories import (
    auth,
    filed_via_services,
    make_enterprise,
    make_inspector,
    make_staff,
    operator_of,
    problem,
)

COUNTY = "451121"  # 昭平县: these tests plan over this county only


class World(TypedDict):
    admin: User
    inspectors: list[tuple[Inspector, User]]
    outlets: list[Filing]
    a: Enterprise


@pytest.fixture
def world(session: Session, fixed_clock: datetime) -> World:
    """An admin, 4 inspectors (one conflicted with operator A), 10 outlets of two operators."""
    admin = make_staff(session, role="admin", jurisdiction=COUNTY)
    reviewer = make_staff(session, role="reviewer", jurisdiction=COUNTY)
    enterprise_a = make_enterprise(session, region_code=COUNTY)
    enterprise_b = make_enterprise(session, region_code=COUNTY)
    inspectors = [
        make_inspector(
            session, admin, "ZP-0001", conflicts=[enterprise_a.uscc], jurisdiction=COUNTY
        ),
        make_inspector(session, admin, "ZP-0002", jurisdiction=COUNTY),
        make_inspector(session, admin, "ZP-0003", jurisdiction=COUNTY),
        make_inspector(session, admin, "ZP-0004", jurisdiction=COUNTY),
    ]
    townships = ["451121100", "451121101", "451121102", "451121103", "451121104"]
    outlets: list[Filing] = []
    for n in range(10):
        enterprise = enterprise_a if n % 2 == 0 else enterprise_b
        outlets.append(
            filed_via_services(
                session,
                operator_of(session, enterprise),
                reviewer,
                county_code=COUNTY,
                township_code=townships[n % 5],
                name=f"昭平网点{n}",
            )
        )
    return {"admin": admin, "inspectors": inspectors, "outlets": outlets, "a": enterprise_a}


def plan_body(**overrides: object) -> dict[str, Any]:
    body = {
        "name": "2026 年第四季度昭平县快递末端网点双随机抽查",
        "region_code": COUNTY,
        "item_codes": ["real_name", "security_equipment"],
        "sampling": {"mode": "rate", "rates": {"low": "0.2", "medium": "0.5", "high": "1"}},
        "team_size": 2,
        "exclude_recent_days": 365,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "randomness_sources": "2026-12-01 福彩 3D 开奖号码；2026-12-01 体彩排列五开奖号码",
    }
    body.update(overrides)
    return body


def drawn_plan(client: TestClient, admin: User, **overrides: object) -> dict[str, Any]:
    plan = client.post(
        "/api/v1/inspection-plans", json=plan_body(**overrides), headers=auth(admin)
    ).json()
    announced = client.post(f"/api/v1/inspection-plans/{plan['id']}/announce", headers=auth(admin))
    assert announced.status_code == 200, announced.text
    drawn = client.post(
        f"/api/v1/inspection-plans/{plan['id']}/draw",
        json={"sources": [[3, 8, 1], [2, 5, 12, 8, 10]]},
        headers=auth(admin),
    )
    assert drawn.status_code == 200, drawn.text
    return drawn.json()


def test_announce_freezes_candidates_by_risk_and_the_pool(client: TestClient, world: World) -> None:
    admin = world["admin"]
    plan = client.post("/api/v1/inspection-plans", json=plan_body(), headers=auth(admin)).json()
    assert plan["status"] == "draft"
    announced = client.post(
        f"/api/v1/inspection-plans/{plan['id']}/announce", headers=auth(admin)
    ).json()
    assert announced["status"] == "announced" and len(announced["digest"]) == 64
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    assert [s["label"] for s in public["strata"]] == ["high", "low", "medium"]
    assert len(public["strata"][1]["candidates"]) == 10
    assert public["strata"][1]["candidates"] == sorted(public["strata"][1]["candidates"])
    assert public["pool"] == ["ZP-0001", "ZP-0002", "ZP-0003", "ZP-0004"]
    again = client.post(f"/api/v1/inspection-plans/{plan['id']}/announce", headers=auth(admin))
    assert problem(again) == (409, "invalid_transition")


def test_announce_reads_a_frame_of_any_size_in_chunks(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's county frame outgrows one statement's parameters: the risk levels are read
    in chunks, with the same strata as in one go."""
    from services.inspections import risk

    admin = world["admin"]
    whole = client.post("/api/v1/inspection-plans", json=plan_body(), headers=auth(admin)).json()
    in_one = client.post(f"/api/v1/inspection-plans/{whole['id']}/announce", headers=auth(admin))
    monkeypatch.setattr(risk, "ID_CHUNK", 3)
    chunked = client.post("/api/v1/inspection-plans", json=plan_body(), headers=auth(admin)).json()
    in_chunks = client.post(
        f"/api/v1/inspection-plans/{chunked['id']}/announce", headers=auth(admin)
    )
    assert in_one.status_code == in_chunks.status_code == 200
    strata = [
        client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()["strata"]
        for plan in (whole, chunked)
    ]
    assert strata[0] == strata[1]
    assert sum(len(s["candidates"]) for s in strata[0]) > 3


def test_risk_override_moves_an_outlet_to_its_stratum_and_is_audited(
    client: TestClient,
    session: Session,
    world: World,
) -> None:
    admin, outlet = world["admin"], world["outlets"][0]
    response = client.put(
        f"/api/v1/filings/{outlet.id}/risk",
        json={"level": "high", "reason": "群众投诉较多"},
        headers=auth(admin),
    )
    assert response.status_code == 200 and response.json()["risk_level"] == "high"
    plan = client.post("/api/v1/inspection-plans", json=plan_body(), headers=auth(admin)).json()
    client.post(f"/api/v1/inspection-plans/{plan['id']}/announce", headers=auth(admin))
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    assert public["strata"][0]["candidates"] == [outlet.filing_no]
    entries = client.get(
        "/api/v1/audit",
        params={"entity": "filing", "entity_id": str(outlet.id)},
        headers=auth(admin),
    ).json()
    assert entries[0]["action"] == "filing.risk_override"
    assert audit.verify(session).verified


def test_draw_selects_by_stratum_and_staffs_every_team(client: TestClient, world: World) -> None:
    plan = drawn_plan(client, world["admin"])
    assert plan["status"] == "drawn"
    assert plan["key_string"] == "1.3.8./2.5.8.10.12./"
    low = plan["strata"][1]
    assert len(low["selected"]) == 2  # ceil(10 × 0.2)
    assert len(plan["assignments"]) == 2
    for assignment in plan["assignments"]:
        assert len(assignment["team"]) == 2


def test_conflicted_inspector_is_never_on_or_eligible_for_its_operators_outlets(
    client: TestClient,
    world: World,
) -> None:
    # Drawing all 10 candidates puts each of operator A's 5 outlets through team selection;
    # ZP-0001 declared a conflict with A.
    plan = drawn_plan(client, world["admin"], sampling={"mode": "count", "count": 10})
    a_outlets = {o.filing_no for o in world["outlets"] if o.enterprise_id == world["a"].id}
    of_a = [a for a in plan["assignments"] if a["filing_no"] in a_outlets]
    assert len(of_a) == 5
    for assignment in of_a:
        assert "ZP-0001" not in assignment["team"]
        assert "ZP-0001" not in assignment["eligible"]


def test_public_verification_recomputes_the_draw(client: TestClient, world: World) -> None:
    plan = drawn_plan(client, world["admin"])
    report = client.get(f"/api/v1/public/inspection-plans/{plan['id']}/verification").json()
    assert report["verified"] is True, report["problems"]
    assert report["key_string"] == plan["key_string"]


def test_draw_happens_once(client: TestClient, world: World) -> None:
    plan = drawn_plan(client, world["admin"])
    again = client.post(
        f"/api/v1/inspection-plans/{plan['id']}/draw",
        json={"sources": [[1]]},
        headers=auth(world["admin"]),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_not_enough_inspectors_saves_nothing(
    client: TestClient,
    session: Session,
    world: World,
) -> None:
    admin = world["admin"]
    plan = client.post(
        "/api/v1/inspection-plans", json=plan_body(team_size=5), headers=auth(admin)
    ).json()
    client.post(f"/api/v1/inspection-plans/{plan['id']}/announce", headers=auth(admin))
    response = client.post(
        f"/api/v1/inspection-plans/{plan['id']}/draw",
        json={"sources": [[1, 2]]},
        headers=auth(admin),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_enough_inspectors"
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    assert public["status"] == "announced" and public["key_string"] is None
    count = session.exec(
        select(func.count()).select_from(Inspection).where(Inspection.plan_id == plan["id"])
    ).one()
    assert count == 0


def test_recently_drawn_outlets_are_excluded_for_a_shared_item(
    client: TestClient, world: World
) -> None:
    admin = world["admin"]
    first = drawn_plan(client, admin, sampling={"mode": "count", "count": 3})
    drawn = {a["filing_no"] for a in first["assignments"]}
    shared = client.post(
        "/api/v1/inspection-plans", json=plan_body(item_codes=["real_name"]), headers=auth(admin)
    ).json()
    client.post(f"/api/v1/inspection-plans/{shared['id']}/announce", headers=auth(admin))
    candidates = {
        c
        for s in client.get(f"/api/v1/public/inspection-plans/{shared['id']}").json()["strata"]
        for c in s["candidates"]
    }
    assert not drawn & candidates and len(candidates) == 7
    other = client.post(
        "/api/v1/inspection-plans",
        json=plan_body(item_codes=["service_quality"]),
        headers=auth(admin),
    ).json()
    client.post(f"/api/v1/inspection-plans/{other['id']}/announce", headers=auth(admin))
    others = {
        c
        for s in client.get(f"/api/v1/public/inspection-plans/{other['id']}").json()["strata"]
        for c in s["candidates"]
    }
    assert drawn <= others


def _member_and_outsider(world: World, assignment: dict[str, Any]) -> tuple[User, User]:
    by_certificate = {inspector.certificate_no: user for inspector, user in world["inspectors"]}
    member = by_certificate[assignment["team"][0]]
    outsider = next(user for cert, user in by_certificate.items() if cert not in assignment["team"])
    return member, outsider


def test_only_an_assigned_inspector_records_the_result_and_it_is_published(
    client: TestClient,
    world: World,
) -> None:
    plan = drawn_plan(client, world["admin"], period_start="2026-11-15")
    assignment = plan["assignments"][0]
    member, outsider = _member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}/result"
    body = {
        "inspected_on": "2026-11-30",
        "outcome": "rectification",
        "findings": "未落实收寄验视制度",
        "rectify_by": "2026-12-15",
    }
    assert problem(client.put(url, json=body, headers=auth(outsider))) == (404, "not_found")
    by_admin = client.put(url, json=body, headers=auth(world["admin"]))
    assert problem(by_admin) == (403, "forbidden")
    recorded = client.put(url, json=body, headers=auth(member))
    assert recorded.status_code == 200 and recorded.json()["outcome"] == "rectification"
    mine = client.get("/api/v1/inspections", headers=auth(member)).json()
    assert assignment["inspection_id"] in {i["id"] for i in mine}
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}").json()
    assert [
        {key: result[key] for key in ("filing_no", "inspected_on", "outcome", "findings")}
        for result in public["results"]
    ] == [
        {
            "filing_no": assignment["filing_no"],
            "inspected_on": "2026-11-30",
            "outcome": "rectification",
            "findings": "未落实收寄验视制度",
        }
    ]
    assert client.get(f"/api/v1/public/inspection-plans/{plan['id']}/verification").json()[
        "verified"
    ]


def test_overdue_results_are_reported(client: TestClient, world: World) -> None:
    from datetime import UTC, datetime

    from core import clock

    plan = drawn_plan(client, world["admin"], period_start="2026-09-01", period_end="2026-09-30")
    with clock.frozen_at(datetime(2026, 11, 30, 2, 0, tzinfo=UTC)):
        report = client.get("/api/v1/inspections/overdue", headers=auth(world["admin"])).json()
    assert {row["inspection_id"] for row in report} == {
        a["inspection_id"] for a in plan["assignments"]
    }
    # 20 working days after 2026-09-30: 10-08, 10-09, 10-10 (an adjusted Saturday), then
    # five a week from 10-12: the 20th is Tuesday 2026-11-03.
    assert {row["due_on"] for row in report} == {"2026-11-03"}
    assert {row["due_provisional"] for row in report} == {False}  # 2026: chinese-calendar


def test_a_result_deadline_in_a_year_without_a_calendar_is_provisional(
    client: TestClient, world: World
) -> None:
    from datetime import UTC, datetime

    from core import clock

    drawn_plan(client, world["admin"], period_start="2026-12-01", period_end="2026-12-31")
    with clock.frozen_at(datetime(2027, 3, 1, 2, 0, tzinfo=UTC)):
        report = client.get("/api/v1/inspections/overdue", headers=auth(world["admin"])).json()
    assert report and {row["due_provisional"] for row in report} == {True}


def test_verify_draw_command_on_the_published_json(
    client: TestClient,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = drawn_plan(client, world["admin"])
    path = tmp_path / "plan.json"
    path.write_text(
        client.get(f"/api/v1/public/inspection-plans/{plan['id']}").text, encoding="utf-8"
    )
    assert cli.main(["verify-draw", str(path)]) == 0
    assert capsys.readouterr().out.strip().endswith("verified")
    tampered = json.loads(path.read_text(encoding="utf-8"))
    tampered["assignments"][0]["team"].reverse()
    path.write_text(json.dumps(tampered), encoding="utf-8")
    assert cli.main(["verify-draw", str(path)]) == 1


def test_plans_outside_the_admin_jurisdiction_are_404(
    client: TestClient,
    session: Session,
    world: World,
) -> None:
    plan = client.post(
        "/api/v1/inspection-plans", json=plan_body(), headers=auth(world["admin"])
    ).json()
    other = make_staff(session, role="admin", jurisdiction="451102")
    announce = client.post(f"/api/v1/inspection-plans/{plan['id']}/announce", headers=auth(other))
    assert problem(announce) == (404, "not_found")
    public = client.get(f"/api/v1/public/inspection-plans/{plan['id']}")  # a draft
    assert problem(public) == (404, "not_found")


def test_evidence_upload_by_an_assigned_inspector_only(client: TestClient, world: World) -> None:
    from tests.factories import sample_png

    plan = drawn_plan(client, world["admin"])
    assignment = plan["assignments"][0]
    member, outsider = _member_and_outsider(world, assignment)
    url = f"/api/v1/inspections/{assignment['inspection_id']}/evidence"
    files = {"file": ("现场照片.png", sample_png(), "image/png")}
    assert problem(client.post(url, files=files, headers=auth(outsider))) == (404, "not_found")
    stored = client.post(url, files=files, headers=auth(member))
    assert stored.status_code == 201
    assert stored.json()["content_type"] == "image/png"
    refused = client.post(
        url, files={"file": ("x.png", b"MZ not an image", "image/png")}, headers=auth(member)
    )
    assert problem(refused) == (415, "unsupported_media_type")
