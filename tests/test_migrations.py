"""The migrations are the schema: they go up, down and up again, and match the models."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, make_url, text

import models
from core.db import make_engine
from core.migrate import current_revision, downgrade, head_revision, include_object, upgrade


@pytest.fixture
def scratch_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as the test database."""
    if engine.dialect.name == "postgresql":
        name = f"{engine.url.database}_migrations"
        admin = make_engine(str(engine.url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = engine.url.set(database=name).render_as_string(hide_password=False)
        yield url
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield str(make_url(f"sqlite:///{tmp_path / 'scratch.sqlite3'}"))


def test_upgrade_downgrade_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    assert current_revision(engine) == head_revision(scratch_url)
    downgrade(scratch_url, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(scratch_url)
    assert current_revision(engine) == head_revision(scratch_url)
    engine.dispose()


def test_models_and_migrations_do_not_differ(scratch_url: str) -> None:
    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, models.SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_brands_are_preloaded_by_the_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        codes = set(connection.execute(text("SELECT code FROM brand")).scalars())
    assert {"EMS", "SF", "ZTO", "YTO", "STO", "YUNDA", "JT", "JD", "DEPPON"} <= codes


def test_the_latest_migrations_go_down_and_up_again_over_demo_data(scratch_url: str) -> None:
    """A rollback in production meets rows: SQLite's table rebuilds must not trip over the
    foreign keys that point at them, and the data must survive the round trip."""
    from sqlmodel import Session, func, select

    from cli import demo
    from models.filing import Filing
    from services.reference import regions

    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        regions.load_regions(session, regions.read_regions_csv(regions.DEFAULT_REGIONS_FILE))
        demo.seed(session)
        session.commit()
        filings = session.exec(select(func.count()).select_from(Filing)).one()
    engine.dispose()
    downgrade(scratch_url, "ab4d6f8c0e1a")  # before issue 11's accounts, licences and notices
    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Filing)).one() == filings
    assert current_revision(engine) == head_revision(scratch_url)
    engine.dispose()
