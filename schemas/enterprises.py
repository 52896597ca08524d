from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import ChangeDecision, EnterpriseStatus
from schemas.accounts import Email
from schemas.common import (
    LongText,
    Mobile,
    NotNull,
    Password,
    RegionCode,
    ShortText,
    Text,
    Timestamp,
    Uscc,
    Username,
)

# The licensed area: region codes (each a known region, checked by the service).
LicenceRegions = Annotated[list[RegionCode], Field(min_length=1, max_length=50)]


class EnterpriseRegister(BaseModel):
    name: Text
    uscc: Uscc
    licence_no: ShortText
    region_code: RegionCode
    is_branch: bool = False
    contact_name: ShortText
    contact_mobile: Mobile
    username: Username
    password: Password
    # Optional (older clients leave them out): the owner account's e-mail, and the licence's
    # validity and area; without an area the enterprise's city is its licensed area, and an
    # unknown validity is filled by the reviewer at approval.
    contact_email: Email | None = None
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    licence_regions: LicenceRegions | None = None


class LicenceCancellation(BaseModel):
    reason: Text


class Approval(BaseModel):
    """Optional at approval: the licence data the registration left out (or corrected)."""

    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    licence_regions: LicenceRegions | None = None


class Rejection(BaseModel):
    reason: LongText


class EnterpriseUpdate(BaseModel):
    """The owner's edit. While pending or rejected every field applies at once; once approved
    the contact fields apply at once and name, USCC and licence fields go to a reviewer."""

    name: Annotated[Text | None, NotNull] = None
    uscc: Annotated[Uscc | None, NotNull] = None
    licence_no: Annotated[ShortText | None, NotNull] = None
    region_code: Annotated[RegionCode | None, NotNull] = None
    is_branch: Annotated[bool | None, NotNull] = None
    contact_name: Annotated[ShortText | None, NotNull] = None
    contact_mobile: Annotated[Mobile | None, NotNull] = None
    contact_email: Email | None = None
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    licence_regions: LicenceRegions | None = None


class ChangeReview(BaseModel):
    decision: ChangeDecision
    reason: LongText | None = None


class PendingChange(BaseModel):
    fields: dict[str, object]
    requested_at: Timestamp


class EnterprisePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    uscc: str
    licence_no: str
    region_code: str
    is_branch: bool
    contact_name: str
    contact_mobile: str
    contact_email: str | None = None
    status: EnterpriseStatus
    status_label: str = ""
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    licence_regions: list[str] = []
    rejection_reason: str | None = None
    rejected_at: Timestamp | None = None
    pending_change: PendingChange | None = None
    created_at: Timestamp
    approved_at: Timestamp | None
    licence_cancelled_at: Timestamp | None
