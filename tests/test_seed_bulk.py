"""`seed-bulk`: a few thousand outlets loaded in bulk into a throw-away database (a SQLite file,
or a database of its own on PostgreSQL), then held against the real services and endpoints:
what the bulk rows say must be what the service itself would have written."""

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, make_url, or_, text
from sqlmodel import Session, col, select

from api.main import app
from cli import bulk
from cli import main as cli
from core.config import get_settings
from core.db import get_engine, make_engine
from core.migrate import upgrade
from domain.identifiers import id_number_error, mobile_error
from domain.vocabulary import FilingStatus, RegionLevel, RevisionStatus
from models.audit import AuditEntry
from models.enterprise import Enterprise
from models.filing import Filing, FilingCounter, FilingRevision
from models.receipt import PublicOutlet, Receipt
from models.region import Region
from models.user import User
from schemas.filings import FilingContent
from services.filings import actions
from services.filings import rules as filing_rules
from services.oversight import audit
from services.receipts import directory, issuing, signing
from tests.conftest import rolled_back_session, serve_from
from tests.factories import auth

OUTLETS = 2500


@dataclass
class Loaded:
    engine: Engine
    report: bulk.BulkReport


def _throwaway_url(main: Engine, tmp: Path) -> str:
    if main.dialect.name != "postgresql":
        return f"sqlite:///{tmp / 'bulk.sqlite3'}"
    name = f"outlet_bulk_test_{random.randrange(10**9)}"
    with main.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    return (
        make_url(get_settings().sqlalchemy_url)
        .set(database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def loaded(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    url = _throwaway_url(engine, tmp_path_factory.mktemp("bulk"))
    upgrade(url)
    target = make_engine(url)
    report = bulk.seed_bulk(target, OUTLETS, seed=5, batch=1000)
    yield Loaded(target, report)
    target.dispose()
    if engine.dialect.name == "postgresql":
        name = make_url(url).database
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


@pytest.fixture
def db(loaded: Loaded) -> Iterator[Session]:
    """A session on the bulk database whose writes are rolled back after the test."""
    with rolled_back_session(loaded.engine) as session:
        yield session


@pytest.fixture
def api(db: Session, loaded: Loaded) -> Iterator[TestClient]:
    serve_from(db, loaded.engine)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client
    app.dependency_overrides.clear()


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def test_filings_per_status_are_as_reported(db: Session, loaded: Loaded) -> None:
    counted = dict(db.exec(select(Filing.status, func.count()).group_by(col(Filing.status))).all())
    assert counted == {status: n for status, n in loaded.report.statuses.items() if n}
    assert sum(counted.values()) == OUTLETS
    assert set(counted) >= {"draft", "submitted", "returned", "filed", "closed", "lapsed"}
    assert counted["filed"] > 0.8 * OUTLETS


def test_every_table_holds_what_was_reported(db: Session, loaded: Loaded) -> None:
    for table, rows in loaded.report.rows.items():
        found = db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        # the lapse (through the service) removed directory rows afterwards
        expected = rows - loaded.report.statuses["lapsed"] if table == "public_outlet" else rows
        assert found >= expected if table in ("filing_event", "audit_entry") else found == expected


def test_the_directory_holds_exactly_the_outlets_in_force(db: Session) -> None:
    filed = db.exec(select(func.count()).where(Filing.status == FilingStatus.FILED)).one()
    assert db.exec(select(func.count()).select_from(PublicOutlet)).one() == filed
    strays = db.exec(
        select(func.count())
        .select_from(PublicOutlet)
        .join(Filing, col(Filing.id) == PublicOutlet.filing_id)
        .where(
            or_(
                col(Filing.status) != FilingStatus.FILED,
                col(Filing.current_revision_id) != PublicOutlet.revision_id,
            )
        )
    ).one()
    assert strays == 0


def test_a_sampled_receipt_checks_valid_and_its_signature_verifies(
    api: TestClient, loaded: Loaded
) -> None:
    number = loaded.report.samples["valid"]
    answer = api.get(f"/api/v1/public/receipts/{number}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "valid"
    jwks = api.get("/api/v1/public/keys").json()
    payload = signing.verify(body["jws"], jwks)
    assert payload["receipt_no"] == number
    assert payload["outlet"] == body["outlet"]


def test_receipts_superseded_by_a_change_answer_superseded_with_the_new_one(
    api: TestClient, loaded: Loaded
) -> None:
    number = loaded.report.samples["superseded"]
    body = api.get(f"/api/v1/public/receipts/{number}").json()
    assert body["status"] == "superseded"
    assert body["current_receipt_no"] == number.removesuffix("-R1") + "-R2"
    current = api.get(f"/api/v1/public/receipts/{body['current_receipt_no']}").json()
    assert current["status"] == "valid"


@pytest.mark.parametrize("status", ["closed", "lapsed"])
def test_ended_outlets_receipts_answer_their_end(
    api: TestClient, loaded: Loaded, status: str
) -> None:
    body = api.get(f"/api/v1/public/receipts/{loaded.report.samples[status]}").json()
    assert body["status"] == status
    assert body["reason"]


def test_receipts_carry_the_payload_the_service_builds(db: Session) -> None:
    receipts = db.exec(select(Receipt).order_by(col(Receipt.id))).all()
    for receipt in random.Random(1).sample(list(receipts), 40):
        filing = db.get(Filing, receipt.filing_id)
        rev = db.get(FilingRevision, receipt.revision_id)
        assert filing is not None and rev is not None
        enterprise = db.get(Enterprise, filing.enterprise_id)
        assert enterprise is not None
        built = issuing.build_payload(db, filing, rev, enterprise, receipt.issued_on)
        assert receipt.payload == signing.canonical(built)
        assert signing.verify(receipt.jws, signing.keyring().jwks()) == built


def test_directory_rows_are_what_refresh_writes(db: Session) -> None:
    rows = db.exec(select(PublicOutlet).order_by(col(PublicOutlet.filing_id))).all()
    for row in random.Random(2).sample(list(rows), 40):
        before = row.model_dump()
        filing = db.get(Filing, row.filing_id)
        assert filing is not None
        directory.refresh(db, filing)
        db.refresh(row)
        assert row.model_dump() == before


def test_the_directory_finds_a_sampled_outlet_by_name_with_masked_person(
    api: TestClient, db: Session
) -> None:
    row = db.exec(select(PublicOutlet).order_by(col(PublicOutlet.filing_id)).offset(777)).first()
    assert row is not None
    brand = row.brands.split(",")[0]
    answer = api.get(
        "/api/v1/public/outlets",
        params={"q": row.name, "county": row.county_code, "brand": brand, "limit": 200},
    ).json()
    found = [item for item in answer["items"] if item["filing_no"] == row.filing_no]
    assert len(found) == 1
    person = found[0]["person_in_charge"]
    assert person["name"].endswith("*") and person["mobile"][3:7] == "****"
    assert found[0]["county_name"] and found[0]["township_name"]


def test_the_audit_chain_verifies(db: Session) -> None:
    report = audit.verify(db, batch=5000)
    assert report.verified, report
    assert report.entries == db.exec(select(func.count()).select_from(AuditEntry)).one()


def test_every_outlet_lies_in_a_known_township_of_its_county(db: Session) -> None:
    townships = {
        region.code: region.parent_code
        for region in db.exec(
            select(Region).where(
                col(Region.level).in_([RegionLevel.TOWNSHIP, RegionLevel.SUBDISTRICT])
            )
        ).all()
    }
    pairs = db.exec(select(Filing.county_code, Filing.township_code).distinct()).all()
    assert all(townships.get(township) == county for county, township in pairs)
    assert len(pairs) > 0.7 * len(townships)  # spread over most townships, skewed


def test_revision_content_passes_the_services_validation(db: Session) -> None:
    revisions = db.exec(select(FilingRevision).order_by(col(FilingRevision.id))).all()
    for rev in random.Random(3).sample(list(revisions), 60):
        content = {"outlet": rev.outlet, "person_in_charge": rev.person_in_charge}
        if rev.partner:
            content["partner"] = rev.partner
        validated = FilingContent.model_validate(content).model_dump(mode="json")
        assert validated["outlet"] == {**rev.outlet, "scope": sorted(rev.outlet["scope"])}
        assert filing_rules.content_errors(db, validated, today=date.today()) == []
        assert id_number_error(rev.person_in_charge["id_number"]) is None
        assert mobile_error(rev.person_in_charge["mobile"]) is None


def test_the_review_queue_lists_every_submission_earliest_due_first(
    api: TestClient, db: Session
) -> None:
    waiting = db.exec(
        select(func.count()).where(FilingRevision.status == RevisionStatus.SUBMITTED)
    ).one()
    answer = api.get(
        "/api/v1/filings",
        params={"queue": "true", "limit": 200},
        headers=auth(_user(db, "bulk_reviewer")),
    ).json()
    assert answer["total"] == waiting > 0
    due = [item["review_due_on"] for item in answer["items"]]
    assert due == sorted(due)


def test_the_city_overview_counts_the_filings(api: TestClient, db: Session) -> None:
    answer = api.get("/api/v1/stats/overview", headers=auth(_user(db, "bulk_admin")))
    assert answer.status_code == 200
    by_status = answer.json()["filings"]["by_status"]
    filed = db.exec(select(func.count()).where(Filing.status == FilingStatus.FILED)).one()
    assert by_status["filed"] == filed


def test_an_acceptance_after_the_load_takes_the_next_filing_number(db: Session) -> None:
    filing = db.exec(
        select(Filing).where(Filing.status == FilingStatus.SUBMITTED).order_by(col(Filing.id))
    ).first()
    assert filing is not None
    year = date.today().year
    counter = db.get(FilingCounter, (filing.county_code, year))
    last = counter.last_serial if counter else 0
    actions.accept(db, filing, reviewer=_user(db, "bulk_reviewer"))
    assert filing.filing_no == f"{filing.county_code}-{year}-{last + 1:06d}"
    db.flush()  # no unique number or id collides with the bulk rows
    receipt = db.exec(select(Receipt).where(Receipt.receipt_no == f"{filing.filing_no}-R1")).one()
    assert receipt.id == db.exec(select(func.max(Receipt.id))).one()


def test_a_second_run_refuses_a_database_with_data(loaded: Loaded) -> None:
    with pytest.raises(bulk.DatabaseNotEmpty):
        bulk.seed_bulk(loaded.engine, 10)


def test_the_command_loads_an_empty_database_and_refuses_a_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        assert cli.main(["seed-bulk", "--outlets", "120", "--seed", "2"]) == 0
        out = capsys.readouterr().out
        assert "已写入 120 个网点" in out and "行/秒" in out
        assert cli.main(["seed-bulk", "--outlets", "120"]) == 2
        assert "数据库已有数据" in capsys.readouterr().err
        assert cli.main(["seed-bulk", "--outlets", "120", "--if-empty"]) == 0
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()


def test_outlet_names_and_content_look_believable(db: Session) -> None:
    names = db.exec(select(PublicOutlet.name)).all()
    assert len(set(names)) > 0.6 * len(names)
    assert any("菜鸟驿站" in name for name in names)
    assert any(name.startswith("中国邮政") for name in names)
    addresses = db.exec(select(PublicOutlet.address).limit(200)).all()
    assert all(address.endswith(("号", "门面")) for address in addresses)
    assert json.dumps(addresses, ensure_ascii=False).count("贺州市") == 0  # names come from codes
