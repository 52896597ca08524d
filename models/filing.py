"""An outlet's filing, its revisions (first filing and each change), documents and history."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import CheckConstraint, Column, Field, SQLModel

from domain.vocabulary import (
    Decision,
    DocumentKind,
    FilingStatus,
    RevisionStatus,
    RiskLevel,
)
from models.base import one_of, timestamp_field


class Filing(SQLModel, table=True):
    """One outlet as filed by one operator. `version` guards every write (ETag / If-Match)."""

    __tablename__ = "filing"
    __table_args__ = (
        CheckConstraint(one_of("status", FilingStatus), name="status"),
        CheckConstraint(one_of("risk_override", RiskLevel, nullable=True), name="risk_override"),
        Index("ix_filing_county_status", "county_code", "status"),
        Index("ix_filing_township_status", "township_code", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    status: str = Field(default=FilingStatus.DRAFT, max_length=16)
    filing_no: str | None = Field(default=None, max_length=32, unique=True)
    # Where the outlet is, as in force (or as drafted before the first acceptance): the scope
    # every jurisdiction check and list filter uses.
    county_code: str = Field(foreign_key="region.code", max_length=12)
    township_code: str = Field(foreign_key="region.code", max_length=12, index=True)
    current_revision_id: int | None = Field(default=None)
    open_revision_id: int | None = Field(default=None)
    # An admin's override of the rule-based risk level (None: the rules decide).
    risk_override: str | None = Field(default=None, max_length=8)
    risk_override_reason: str | None = Field(default=None, max_length=500)
    closed_on: date | None = None
    end_reason: str | None = Field(default=None, max_length=500)
    ended_at: datetime | None = timestamp_field(nullable=True)
    version: int = Field(default=1)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class FilingRevision(SQLModel, table=True):
    """Revision 1 is the first filing; each change is the next number."""

    __tablename__ = "filing_revision"
    __table_args__ = (
        UniqueConstraint("filing_id", "number", name="uq_filing_revision_filing_id_number"),
        CheckConstraint(one_of("status", RevisionStatus), name="status"),
        Index("ix_filing_revision_status_due", "status", "review_due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="filing.id", index=True)
    number: int
    status: str = Field(default=RevisionStatus.DRAFT, max_length=16)
    outlet: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    person_in_charge: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    partner: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    outlet_name: str = Field(max_length=128)
    address: str = Field(max_length=256)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    opened_on: date
    changed_on: date | None = None
    change_reason: str | None = Field(default=None, max_length=500)
    late: bool = Field(default=False)
    submitted_at: datetime | None = timestamp_field(nullable=True)
    review_due_on: date | None = None
    return_due_on: date | None = None
    decided_at: datetime | None = timestamp_field(nullable=True)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    corrections: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    return_count: int = Field(default=0)
    receipt_no: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = timestamp_field()


class RevisionBrand(SQLModel, table=True):
    """The brands an outlet revision serves (a table, so lists filter by brand with an index)."""

    __tablename__ = "revision_brand"
    revision_id: int = Field(foreign_key="filing_revision.id", primary_key=True)
    brand_code: str = Field(foreign_key="brand.code", primary_key=True, max_length=16)


class Document(SQLModel, table=True):
    """An uploaded file attached to a revision; the bytes are stored once, by SHA-256."""

    __tablename__ = "document"
    __table_args__ = (CheckConstraint(one_of("kind", DocumentKind), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="filing_revision.id", index=True)
    kind: str = Field(max_length=32)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64, index=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = timestamp_field()


class FilingEvent(SQLModel, table=True):
    """The filing's history as shown to its owner and reviewers."""

    __tablename__ = "filing_event"
    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="filing.id", index=True)
    revision: int
    action: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = timestamp_field()
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FilingCounter(SQLModel, table=True):
    """The last filing serial given per county and year (row-locked while one is allocated)."""

    __tablename__ = "filing_counter"
    county_code: str = Field(primary_key=True, max_length=12)
    year: int = Field(primary_key=True)
    last_serial: int = Field(default=0)


class ReviewDecision(SQLModel, table=True):
    """One decision on a submission, with the working days it took (for the deadline figures).

    Working days follow the official calendar, which SQL cannot know; they are counted once,
    when the decision is made, so every figure about deadlines is a plain SQL aggregate.
    """

    __tablename__ = "review_decision"
    __table_args__ = (CheckConstraint(one_of("action", Decision), name="action"),)

    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="filing.id", index=True)
    revision_id: int = Field(foreign_key="filing_revision.id")
    county_code: str = Field(max_length=12, index=True)
    action: str = Field(max_length=8)
    submitted_on: date
    decided_on: date
    working_days: int
    within_deadline: bool
    decided_at: datetime = timestamp_field()
