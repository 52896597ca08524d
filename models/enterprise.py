from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import CheckConstraint, Column, Field, SQLModel

from domain.vocabulary import EnterpriseStatus
from models.base import one_of, timestamp_field


class Enterprise(SQLModel, table=True):
    """A courier enterprise or branch that files outlets (the operator, 开办者)."""

    __table_args__ = (CheckConstraint(one_of("status", EnterpriseStatus), name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    uscc: str = Field(max_length=18, unique=True)
    licence_no: str = Field(max_length=64)
    region_code: str = Field(foreign_key="region.code", max_length=12, index=True)
    is_branch: bool = Field(default=False)
    contact_name: str = Field(max_length=64)
    contact_mobile: str = Field(max_length=20)
    contact_email: str | None = Field(default=None, max_length=254)
    # The courier licence (SPEC §1): validity (None: not known yet, does not block) and the
    # licensed area as region codes (None: the city of `region_code`).
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    licence_regions: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default=EnterpriseStatus.PENDING, max_length=16)
    created_at: datetime = timestamp_field()
    approved_at: datetime | None = timestamp_field(nullable=True)
    approved_by_id: int | None = Field(default=None)
    rejected_at: datetime | None = timestamp_field(nullable=True)
    rejection_reason: str | None = Field(default=None, max_length=500)
    # A change of name, USCC or licence data the owner asked for, awaiting a reviewer (one at a
    # time): the requested fields and values, JSON-encoded (dates as ISO text).
    pending_change: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    change_requested_at: datetime | None = timestamp_field(nullable=True)
    licence_cancelled_at: datetime | None = timestamp_field(nullable=True)
    licence_cancellation_reason: str | None = Field(default=None, max_length=500)
