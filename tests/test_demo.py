from sqlmodel import Session, col, func, select

from cli import demo
from domain import draw
from models.filing import Filing
from models.inspection import InspectionPlan
from services.inspections import publication
from services.oversight import audit, stats


def test_demo_data_has_filings_in_every_state_and_a_sound_audit_chain(session: Session) -> None:
    logins = demo.seed(session)
    assert {"admin", "reviewer", "op_sf"} <= {login.username for login in logins}
    statuses = dict(session.exec(select(Filing.status, func.count()).group_by(Filing.status)).all())
    assert set(statuses) == {
        "draft",
        "submitted",
        "returned",
        "filed",
        "closed",
        "revoked",
        "lapsed",
    }
    assert audit.verify(session).verified
    # The demo's plan is the newest (tests that serve a live server commit plans of their own).
    plan = session.exec(select(InspectionPlan).order_by(col(InspectionPlan.id).desc())).first()
    assert plan is not None
    published = publication.publication(session, plan).model_dump(mode="json")
    assert published["status"] == "drawn" and published["assignments"] and published["results"]
    assert draw.verify(published).verified
    coverage = stats.overview(session, jurisdiction="451100").coverage
    assert coverage.ratio is not None and 0.8 < coverage.ratio < 1
    assert all("乡" in t.name for u in coverage.uncovered for t in u.townships)
