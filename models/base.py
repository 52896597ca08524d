"""Shared column helpers and the metadata naming convention Alembic relies on."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, overload

from sqlalchemy import DateTime, Table
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Field, SQLModel

from core import clock

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, vocabulary: type[StrEnum], *, nullable: bool = False) -> str:
    """A CHECK constraint's SQL that keeps `column` inside an enum of `domain.vocabulary`."""
    allowed = f"{column} IN ({','.join(repr(member.value) for member in vocabulary)})"
    return f"{column} IS NULL OR {allowed}" if nullable else allowed


def timestamp_field(*, nullable: bool = False, **kwargs: Any) -> Any:
    """A timezone-aware timestamp column, defaulting to now when not nullable."""
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, **kwargs)
    return Field(default_factory=clock.now, sa_type=DateTime(timezone=True), **kwargs)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored timestamp is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _Keyed(Protocol):
    """A table row with an integer surrogate key (`id: int | None = Field(primary_key=True)`)."""

    @property
    def id(self) -> int | None: ...


def pk(row: _Keyed) -> int:
    """The primary key of a flushed row; a row not yet flushed has none, which is a bug."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no primary key yet: flush it first")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The Core table a table model maps to (SQLModel does not declare `__table__` for typing)."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
