"""Issue 11 (C): working days as data (SPEC §1): an admin loads a year chinese-calendar does not
know; until then that year's deadlines are counted Monday to Friday and shown as provisional."""

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cli.main import main as cli_main
from core import clock
from models.audit import AuditEntry
from models.calendar import CalendarDay, CalendarYear
from models.user import User
from tests.factories import auth, make_staff, problem, submitted_filing

# 2027's Spring Festival (an arrangement as the State Council might publish it): 6–14 February
# off, Saturday 20 February worked.
SPRING_FESTIVAL_2027 = [
    *({"date": f"2027-02-{day:02d}", "kind": "holiday", "note": "春节"} for day in range(6, 15)),
    {"date": "2027-02-20", "kind": "workday", "note": "春节调休"},
]
CSV_2027 = "date,kind,note\n" + "".join(
    f"{d['date']},{d['kind']},{d['note']}\n" for d in SPRING_FESTIVAL_2027
)


@contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(None)


@pytest.fixture
def city_admin(session: Session) -> User:
    return make_staff(session, role="admin", jurisdiction="451100")


def _filing(client: TestClient, operator: User, opened_on: str) -> dict[str, object]:
    return submitted_filing(client, operator, opened_on=opened_on)


def test_a_2027_deadline_is_provisional_until_the_year_is_loaded(
    client: TestClient, session: Session, operator: User, city_admin: User
) -> None:
    with _clock_at(datetime(2027, 2, 4, 2, 0, tzinfo=UTC)):  # Thursday, 10:00 in China
        before = _filing(client, operator, "2027-02-01")
        # Monday to Friday: 5, 8, 9, 10, 11 February.
        assert before["review_due_on"] == "2027-02-11"
        assert before["review_due_provisional"] is True
        year = client.get("/api/v1/calendar/2027", headers=auth(operator)).json()
        assert year["source"] is None and year["provisional"] is True

        loaded = client.put(
            "/api/v1/calendar/2027", json={"days": SPRING_FESTIVAL_2027}, headers=auth(city_admin)
        )
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["source"] == "admin" and loaded.json()["provisional"] is False
        assert len(loaded.json()["days"]) == 10

        # The open submission is counted again: 5, 15, 16, 17, 18 February.
        again = client.get(f"/api/v1/filings/{before['id']}", headers=auth(operator)).json()
        assert again["review_due_on"] == "2027-02-18"
        assert again["review_due_provisional"] is False
        after = _filing(client, operator, "2027-02-02")
        assert after["review_due_on"] == "2027-02-18"
        assert after["review_due_provisional"] is False
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "calendar.load")).one()
    assert entry.actor_id == city_admin.id and json.loads(entry.data)["holidays"] == 9


def test_2026_uses_chinese_calendar(client: TestClient, operator: User) -> None:
    with _clock_at(datetime(2026, 9, 30, 2, 0, tzinfo=UTC)):  # Wednesday before National Day
        filing = _filing(client, operator, "2026-09-25")
    # 1–7 October off; 8, 9, Saturday 10 (worked), 12, 13 October.
    assert filing["review_due_on"] == "2026-10-13"
    assert filing["review_due_provisional"] is False
    year = client.get("/api/v1/calendar/2026", headers=auth(operator)).json()
    assert year["source"] == "package" and year["provisional"] is False
    assert {"date": "2026-10-10", "kind": "workday", "note": "National Day"} in year["days"]


def test_only_city_level_admins_load_a_year(
    client: TestClient, session: Session, operator: User
) -> None:
    body = {"days": SPRING_FESTIVAL_2027}
    district_admin = make_staff(session, role="admin", jurisdiction="451102")
    reviewer = make_staff(session, role="reviewer", jurisdiction="451100")
    assert problem(
        client.put("/api/v1/calendar/2027", json=body, headers=auth(district_admin))
    ) == (
        403,
        "outside_jurisdiction",
    )
    assert problem(client.put("/api/v1/calendar/2027", json=body, headers=auth(reviewer))) == (
        403,
        "forbidden",
    )
    assert problem(client.put("/api/v1/calendar/2027", json=body, headers=auth(operator))) == (
        403,
        "forbidden",
    )
    assert problem(client.put("/api/v1/calendar/2027", json=body)) == (401, "not_authenticated")
    assert session.get(CalendarYear, 2027) is None


@pytest.mark.parametrize(
    ("days", "field"),
    [
        ([{"date": "2027-02-08", "kind": "workday"}], "days.0"),  # a Monday cannot be "worked"
        ([{"date": "2028-01-03", "kind": "holiday"}], "days"),  # another year's day
        ([{"date": "2027-02-08", "kind": "holiday"}] * 2, "days.1"),  # twice
        ([{"date": "2027-02-08", "kind": "off"}], "days.0.kind"),  # outside the fixed set
        ([{"date": "2027-02-30", "kind": "holiday"}], "days.0.date"),
        ([], "days"),
    ],
)
def test_bad_days_are_refused_and_change_nothing(
    client: TestClient, session: Session, city_admin: User, days: list[object], field: str
) -> None:
    response = client.put("/api/v1/calendar/2027", json={"days": days}, headers=auth(city_admin))
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert session.get(CalendarYear, 2027) is None
    assert session.exec(select(CalendarDay)).first() is None


def test_years_outside_the_range_are_422(client: TestClient, operator: User) -> None:
    assert client.get("/api/v1/calendar/1999", headers=auth(operator)).status_code == 422
    assert (
        client.get("/api/v1/calendar/99999999999999999999", headers=auth(operator)).status_code
        == 422
    )


def test_cli_loads_a_year_and_replaces_it(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def test_session(**_: object) -> Iterator[Session]:
        yield session
        session.flush()

    monkeypatch.setattr("core.db.session_scope", test_session)
    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8")
    assert cli_main(["calendar", "load", str(path)]) == 0
    assert len(session.exec(select(CalendarDay).where(CalendarDay.year == 2027)).all()) == 10
    path.write_text("date,kind,note\n2027-10-01,holiday,国庆节\n", encoding="utf-8")
    assert cli_main(["calendar", "load", str(path)]) == 0
    days = session.exec(select(CalendarDay).where(CalendarDay.year == 2027)).all()
    assert [day.note for day in days] == ["国庆节"]


def test_cli_refuses_a_bad_file_with_chinese_errors(
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    @contextmanager
    def test_session(**_: object) -> Iterator[Session]:
        yield session

    monkeypatch.setattr("core.db.session_scope", test_session)
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,kind,note\n2027-02-08,workday,\n2027-13-01,holiday,\n2027-02-09,off,\n",
        encoding="utf-8",
    )
    assert cli_main(["calendar", "load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "第 2 行" in err and "调休上班日应为周六或周日" in err
    assert "第 3 行" in err and "日期" in err
    assert "第 4 行" in err and "holiday" in err
    path.write_text("day,type\n2027-02-08,holiday\n", encoding="utf-8")
    assert cli_main(["calendar", "load", str(path)]) == 2
    assert "表头" in capsys.readouterr().err
    assert session.get(CalendarYear, 2027) is None


def test_the_calendar_knows_nothing_of_filings() -> None:
    """Loading a year recounts filings' deadlines from services.filings; the calendar module
    itself imports neither filings nor anything inside a function (no hidden cycle)."""
    root = Path(__file__).resolve().parents[2]
    tree = ast.parse((root / "services/reference/calendar.py").read_text())
    ours = ("services", "models", "domain", "core", "schemas")
    modules = {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(ours)
    }
    assert not {m for m in modules if m.startswith(("services.filings", "models.filing"))}

    def names(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.ImportFrom):
            return [node.module or ""]
        return [alias.name for alias in node.names]

    nested = [
        name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in names(node)
        if name.startswith(ours)
    ]
    assert nested == []


def test_the_cli_load_counts_open_deadlines_again(
    client: TestClient,
    session: Session,
    operator: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with _clock_at(datetime(2027, 2, 4, 2, 0, tzinfo=UTC)):
        before = _filing(client, operator, "2027-02-01")
    assert before["review_due_on"] == "2027-02-11"

    @contextmanager
    def test_session(**_: object) -> Iterator[Session]:
        yield session
        session.flush()

    monkeypatch.setattr("core.db.session_scope", test_session)
    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8")
    assert cli_main(["calendar", "load", str(path)]) == 0
    with _clock_at(datetime(2027, 2, 4, 2, 0, tzinfo=UTC)):
        again = client.get(f"/api/v1/filings/{before['id']}", headers=auth(operator)).json()
    assert again["review_due_on"] == "2027-02-18"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "calendar.load")).one()
    assert json.loads(entry.data)["deadlines_recounted"] == 1
