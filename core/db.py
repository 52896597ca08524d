"""Engine and sessions: SQLite with WAL, foreign keys and a busy timeout; PostgreSQL (psycopg 3)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from core.config import get_settings

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN, so savepoints and DDL are transactional.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writing request takes SQLite's single write lock up front: a deferred transaction
        # that reads first and writes later fails instead of waiting when another writer won.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # psycopg prepares a statement after five runs, and PostgreSQL may then switch to a generic
    # plan that cannot see the search pattern (so no trigram index): always plan for the values.
    connect_args = {"options": "-c plan_cache_mode=force_custom_plan"}
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args, **kwargs
    )


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    if settings.sqlalchemy_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.sqlalchemy_url)


def begin_session(session: Session, *, for_write: bool) -> None:
    """Open the session's transaction now, as a writer (SQLite: BEGIN IMMEDIATE) or a reader."""
    token = _write_intent.set(for_write)
    try:
        session.connection()
    finally:
        _write_intent.reset(token)


@contextmanager
def session_scope(*, for_write: bool = True) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    with Session(get_engine(), expire_on_commit=False) as session:
        begin_session(session, for_write=for_write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
