"""Alembic environment: runs against `sqlalchemy.url` from the config, or the app's settings."""

from typing import Any

from alembic import context
from sqlalchemy import Connection

import models  # noqa: F401  (registers every table on the metadata)
from core.db import make_engine
from core.migrate import include_object
from models import SQLModel

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from core.config import get_settings

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.sqlalchemy_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced the drop
        # of a referenced table that holds rows fails. The pragma only takes effect outside a
        # transaction; the references are checked once the migrations are done.
        # (SQLAlchemy emits BEGIN itself, so the pragmas go to the driver's connection.)
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        _configure_and_run(connection)
    finally:
        if sqlite:
            broken = _sqlite_pragma(connection, "PRAGMA foreign_key_check")
            _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"migration left broken references: {broken[:5]}")


def _sqlite_pragma(connection: Connection, pragma: str) -> list[Any]:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # a live connection always has one
    try:
        return list(cursor.execute(pragma).fetchall())
    finally:
        cursor.close()


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
