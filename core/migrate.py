"""Alembic, driven from code, so the installed package migrates without an ini file."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# `migrations` is installed beside `core`: found by path, as core imports nothing above it.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leaves out of autogenerate what the migrations create by hand for text search: SQLite's
    FTS5 table (and its shadow tables) and PostgreSQL's trigram indexes."""
    if type_ == "table" and name and name.startswith("public_outlet_fts"):
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(str(engine.url))


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
