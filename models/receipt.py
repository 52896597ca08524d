from datetime import date, datetime

from sqlmodel import Column, Field, SQLModel, Text

from models.base import timestamp_field


class Receipt(SQLModel, table=True):
    """An issued filing receipt: immutable once written. Its status is derived, never stored."""

    __tablename__ = "receipt"

    id: int | None = Field(default=None, primary_key=True)
    receipt_no: str = Field(max_length=40, unique=True)
    filing_id: int = Field(foreign_key="filing.id", index=True)
    revision_id: int = Field(foreign_key="filing_revision.id", unique=True)
    revision: int
    issued_on: date
    issued_at: datetime = timestamp_field()
    kid: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    jws: str = Field(sa_column=Column(Text, nullable=False))


class PublicOutlet(SQLModel, table=True):
    """The public directory: one row per outlet in force, personal data already masked.

    Rewritten by the service whenever a filing is accepted, closed, revoked or lapses, so public
    reads never touch personal data. Text search indexes it (SQLite FTS5 trigram, pg_trgm).
    """

    __tablename__ = "public_outlet"

    filing_id: int = Field(primary_key=True, foreign_key="filing.id")
    revision_id: int = Field(foreign_key="filing_revision.id")
    filing_no: str = Field(max_length=32)
    receipt_no: str = Field(max_length=40)
    name: str = Field(max_length=128)
    address: str = Field(max_length=256)
    outlet_type: str = Field(max_length=16)
    scope: str = Field(max_length=32)
    brands: str = Field(max_length=200)
    county_code: str = Field(max_length=12, index=True)
    township_code: str = Field(max_length=12, index=True)
    operator_name: str = Field(max_length=128)
    operator_uscc: str = Field(max_length=18)
    person_name_masked: str = Field(max_length=64)
    mobile_masked: str = Field(max_length=20)
    opened_on: date
    issued_on: date
