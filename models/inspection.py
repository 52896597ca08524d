"""'One list, two directories': inspection items, inspectors, plans, and the inspections drawn."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import CheckConstraint, Column, Field, SQLModel

from domain.vocabulary import FollowUpOutcome, Outcome, PlanStatus
from models.base import one_of, timestamp_field


class InspectionItem(SQLModel, table=True):
    __tablename__ = "inspection_item"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=128)
    active: bool = Field(default=True)
    # What the item checks against and how (both published: GET /public/inspection-items).
    legal_basis: str | None = Field(default=None, max_length=500)
    method: str | None = Field(default=None, max_length=500)


class Inspector(SQLModel, table=True):
    """An enforcement officer in the inspector directory, with declared conflicts (USCCs)."""

    __tablename__ = "inspector"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    certificate_no: str = Field(max_length=32, unique=True)
    jurisdiction: str = Field(foreign_key="region.code", max_length=12)
    active: bool = Field(default=True)
    conflicts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    user_id: int | None = Field(default=None, foreign_key="user_account.id", unique=True)
    created_at: datetime = timestamp_field()


class InspectionPlan(SQLModel, table=True):
    """A double-random plan. Once announced its candidates and pool are frozen (and digested)."""

    __tablename__ = "inspection_plan"
    __table_args__ = (
        CheckConstraint(one_of("status", PlanStatus), name="status"),
        CheckConstraint("team_size >= 2", name="team_size"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    region_code: str = Field(foreign_key="region.code", max_length=12)
    item_codes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    sampling: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    team_size: int = Field(default=2)
    exclude_recent_days: int = Field(default=365)
    period_start: date
    period_end: date
    randomness_sources: str = Field(max_length=1000)
    status: str = Field(default=PlanStatus.DRAFT, max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = timestamp_field()
    announced_at: datetime | None = timestamp_field(nullable=True)
    digest: str | None = Field(default=None, max_length=64)
    # Frozen at announcement: [{label, rate, candidates: [{filing_no, filing_id, uscc, risk}]}]
    strata: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Frozen at announcement: [{certificate_no, inspector_id, conflicts}]
    pool: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    drawn_at: datetime | None = timestamp_field(nullable=True)
    sources: list[list[int]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    key_string: str | None = Field(default=None, max_length=2000)
    # Cancelled (draft or announced, never drawn): the reason is published with an announced plan.
    cancellation_reason: str | None = Field(default=None, max_length=500)
    cancelled_at: datetime | None = timestamp_field(nullable=True)
    version: int = Field(default=1)


class Inspection(SQLModel, table=True):
    """One drawn object of a plan, its team, and its result (published when recorded)."""

    __tablename__ = "inspection"
    __table_args__ = (
        UniqueConstraint("plan_id", "m", name="uq_inspection_plan_id_m"),
        CheckConstraint(one_of("outcome", Outcome, nullable=True), name="outcome"),
        CheckConstraint(
            one_of("follow_up_outcome", FollowUpOutcome, nullable=True), name="follow_up_outcome"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="inspection_plan.id", index=True)
    m: int
    filing_id: int = Field(foreign_key="filing.id", index=True)
    filing_no: str = Field(max_length=32)
    # The outlet as drawn (from the revision in force at the draw): results stay identifiable
    # after the outlet is closed, revoked or renamed.
    outlet_name: str = Field(max_length=128)
    outlet_address: str = Field(max_length=256)
    stratum: str = Field(max_length=16)
    eligible: list[str] = Field(sa_column=Column(JSON, nullable=False))
    team: list[str] = Field(sa_column=Column(JSON, nullable=False))
    inspected_on: date | None = None
    outcome: str | None = Field(default=None, max_length=16)
    findings: str | None = Field(default=None, max_length=2000)
    recorded_at: datetime | None = timestamp_field(nullable=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="inspector.id")
    # Counted when the result is recorded (official calendar), so figures are SQL aggregates.
    result_due_on: date | None = None
    published_on_time: bool | None = None
    # A `rectification` result's deadline, and its follow-up check (整改复查) by the same team,
    # which closes the inspection.
    rectify_by: date | None = None
    follow_up_on: date | None = None
    follow_up_outcome: str | None = Field(default=None, max_length=16)
    follow_up_findings: str | None = Field(default=None, max_length=2000)
    follow_up_recorded_at: datetime | None = timestamp_field(nullable=True)
    follow_up_recorded_by_id: int | None = Field(default=None, foreign_key="inspector.id")


class InspectionMember(SQLModel, table=True):
    """Who is on which inspection's team (so an inspector's assignments are one indexed query)."""

    __tablename__ = "inspection_member"

    inspection_id: int = Field(foreign_key="inspection.id", primary_key=True)
    inspector_id: int = Field(foreign_key="inspector.id", primary_key=True, index=True)


class InspectionEvidence(SQLModel, table=True):
    __tablename__ = "inspection_evidence"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int | None = Field(default=None, foreign_key="inspector.id")
    uploaded_at: datetime = timestamp_field()
