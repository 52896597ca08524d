"""Filing content and responses (SPEC §4.1). Shape and identifier rules here; the rules that
need the database (regions, brands) and across fields live in services/filings/rules.py."""

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from domain import identifiers
from domain.vocabulary import (
    BusinessScope,
    Decision,
    DocumentKind,
    FilingStatus,
    LicenceStatus,
    OutletType,
    RevisionStatus,
    RiskLevel,
)
from schemas.common import IdNumber, LongText, Mobile, NoControl, ShortText, Text, Timestamp


def _uscc_or_id(value: str) -> str:
    """A partner is a company (USCC) or a person (resident ID): either must check out."""
    if identifiers.id_number_error(value) is None:
        return identifiers.normalise_id_number(value)
    if identifiers.uscc_error(value) is None:
        return identifiers.normalise_uscc(value)
    raise PydanticCustomError(
        "invalid_uscc", "合作方证件号应为有效的统一社会信用代码或居民身份证号码"
    )


UsccOrId = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=18), AfterValidator(_uscc_or_id)
]


class OutletData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    type: OutletType
    scope: list[BusinessScope] = Field(min_length=1, max_length=2)
    brands: list[Annotated[str, StringConstraints(max_length=16), NoControl]] = Field(
        min_length=1, max_length=20
    )
    county_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    township_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
    address: Text
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    opened_on: date
    business_hours: Annotated[str, StringConstraints(max_length=64), NoControl] | None = None
    floor_area_m2: float | None = Field(default=None, gt=0, le=100_000)
    staff_count: int | None = Field(default=None, ge=0, le=10_000)
    has_cctv: bool


class PersonData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    id_number: IdNumber
    mobile: Mobile


class PartnerData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    id_number_or_uscc: UsccOrId
    mobile: Mobile


class FilingContent(BaseModel):
    """The complete content of a revision."""

    model_config = ConfigDict(extra="forbid")

    outlet: OutletData
    person_in_charge: PersonData
    partner: PartnerData | None = None


class FilingPatch(BaseModel):
    """Sections to change; each given section's fields are merged into the current content.

    `changed_on` (an open change only) is when the change happened: required before the change
    is submitted, and the 10-day rule counts from it.
    """

    model_config = ConfigDict(extra="forbid")

    outlet: dict[str, Any] | None = None
    person_in_charge: dict[str, Any] | None = None
    partner: dict[str, Any] | None = None
    changed_on: date | None = None


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Annotated[str, StringConstraints(max_length=64), NoControl] | None = None
    document: DocumentKind | None = None
    reason: LongText


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    corrections: list[Correction] = Field(default_factory=list, max_length=50)


class ChangeOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changed_on: date | None = None
    reason: LongText | None = None


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    closed_on: date
    reason: LongText


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: LongText


class DocumentPublic(BaseModel):
    id: int
    kind: DocumentKind
    filename: str
    size: int
    sha256: str
    content_type: str
    uploaded_at: Timestamp


class ChangePublic(BaseModel):
    revision: int
    status: RevisionStatus
    changed_on: date | None
    late: bool
    submitted_at: Timestamp | None
    review_due_on: date | None
    # True: counted Monday to Friday, the year's official arrangement not yet loaded (SPEC §1).
    review_due_provisional: bool = False
    outlet: dict[str, Any]
    person_in_charge: dict[str, Any]
    partner: dict[str, Any] | None
    documents: list[DocumentPublic]
    corrections: list[dict[str, str]]


class LicencePublic(BaseModel):
    """The operator's courier licence as it stands today (SPEC §4.1)."""

    status: LicenceStatus
    status_label: str
    valid_until: date | None


class FilingPublic(BaseModel):
    id: int
    enterprise_id: int
    status: FilingStatus
    filing_no: str | None
    receipt_no: str | None
    revision: int
    late: bool
    submitted_at: Timestamp | None
    review_due_on: date | None
    return_due_on: date | None
    # True: counted Monday to Friday, the year's official arrangement not yet loaded (SPEC §1).
    review_due_provisional: bool = False
    outlet: dict[str, Any]
    person_in_charge: dict[str, Any]
    partner: dict[str, Any] | None
    documents: list[DocumentPublic]
    corrections: list[dict[str, str]]
    risk_level: RiskLevel
    change: ChangePublic | None
    licence: LicencePublic | None = None
    closed_on: date | None
    end_reason: str | None
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class FilingSummary(BaseModel):
    id: int
    status: FilingStatus
    filing_no: str | None
    revision: int
    outlet_name: str
    address: str
    county_code: str
    township_code: str
    brands: list[str]
    late: bool
    review_due_on: date | None
    change_status: RevisionStatus | None
    version: int


class FilingEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    revision: int
    action: str
    from_status: str | None
    to_status: str | None
    actor_id: int | None
    actor: str | None = None
    at: Timestamp
    detail: dict[str, Any]
