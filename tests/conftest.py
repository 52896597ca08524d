"""Test harness: the real Alembic migrations run once per session; each test rolls back.

`TEST_DATABASE_URL` selects PostgreSQL (as `.ci/run` does); by default a SQLite file in a
temporary directory is used, like the embedded default.
"""

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser

if TYPE_CHECKING:
    from tests.s3server import S3Server

_TMP = Path(tempfile.mkdtemp(prefix="outlet-filing-tests-"))
os.environ["DATA_DIR"] = str(_TMP)
os.environ["ENVIRONMENT"] = "development"
os.environ["PUBLIC_BASE_URL"] = "https://filing.example.test"
if os.environ.get("TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
else:
    os.environ.pop("DATABASE_URL", None)

import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.deps import get_session  # noqa: E402
from api.main import app  # noqa: E402
from core import clock  # noqa: E402
from core.config import get_settings  # noqa: E402
from core.db import get_engine  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from models.user import User  # noqa: E402
from services.receipts.public_cache import PublicReader  # noqa: E402
from services.reference import regions  # noqa: E402
from web.deps import public_reader  # noqa: E402


def reset_database(engine: Engine) -> None:
    """An empty database, so the migrations run from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        engine.dispose()
        database = engine.url.database
        assert database is not None, "the SQLite URL names no file"
        Path(database).unlink(missing_ok=True)


def load_reference_data(engine: Engine) -> None:
    with Session(engine) as session:
        regions.load_regions(session, regions.read_regions_csv(regions.DEFAULT_REGIONS_FILE))
        session.commit()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = get_engine()
    reset_database(engine)
    upgrade(get_settings().sqlalchemy_url)
    load_reference_data(engine)
    yield engine
    engine.dispose()


@contextmanager
def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back at the end.

    The service's own commits become savepoint releases, so the code under test runs unchanged.
    """
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with rolled_back_session(engine) as session:
        yield session


def scope_of(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    """The worker's short transactions (`session_scope`), on the test's rolled-back session."""

    @contextmanager
    def scope() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    return scope


def serve_from(session: Session, engine: Engine) -> None:
    """Makes the app answer from `session` (a transaction the test rolls back) instead of its
    own sessions and public reader. `app.dependency_overrides.clear()` undoes it."""

    def _session_override() -> Iterator[Session]:
        # What the test set up is "committed" (its savepoint released) before the request runs,
        # so a request that fails and rolls back keeps it, as a real database would.
        session.commit()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @contextmanager
    def _test_connection() -> Iterator[object]:
        session.commit()
        yield session.connection().connection.dbapi_connection

    async def _reader_override() -> PublicReader:
        return PublicReader(_test_connection, engine.dialect.paramstyle)

    app.dependency_overrides[get_session] = _session_override
    app.dependency_overrides[public_reader] = _reader_override


@pytest.fixture
def client(session: Session, engine: Engine) -> Iterator[TestClient]:
    serve_from(session, engine)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client
    app.dependency_overrides.clear()


FIXED_NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in China


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    clock.set_clock(lambda: FIXED_NOW)
    yield FIXED_NOW
    clock.set_clock(None)


@pytest.fixture(scope="session")
def live_server(engine: Engine) -> Iterator[str]:
    """The app served by uvicorn on a free local port, on the real (committing) database.

    Tests using it commit their data for real, each in a county other tests leave alone.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), one per test session."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Chromium is needed for page tests: apt-get install chromium"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator["S3Server"]:
    """A real S3 server (SeaweedFS) for this test session, with the bucket TEST_BUCKET."""
    from core.storage import S3Storage, s3_client
    from tests.s3server import start_s3_server

    server = start_s3_server()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.environment(TEST_BUCKET).items():
                patch.setenv(name, value)
            S3Storage(s3_client(server.endpoint_url, "us-east-1"), TEST_BUCKET).ensure_bucket()
        yield server
    finally:
        server.stop()


TEST_BUCKET = "outlet-filing-test"


@pytest.fixture(params=["local", "s3"])
def storage_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once on each document store: files under DATA_DIR, then the S3 server."""
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        settings = get_settings()
        for name, value in server.environment(TEST_BUCKET).items():
            if name.startswith("AWS_"):
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.setattr(settings, name.lower(), value)
    return str(request.param)


@pytest.fixture
def operator(session: Session) -> User:
    """The operator of an approved enterprise in 八步区 (451102)."""
    from tests.factories import make_enterprise, operator_of

    return operator_of(session, make_enterprise(session, region_code="451102"))


@pytest.fixture
def reviewer(session: Session) -> User:
    """A reviewer whose jurisdiction is 八步区 (451102)."""
    from tests.factories import make_staff

    return make_staff(session, role="reviewer", jurisdiction="451102")
