"""Inspection items, inspectors, plans, draws and results (SPEC §4.1, §6)."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from domain.draw import MAX_PICKS
from domain.vocabulary import FollowUpOutcome, Outcome, PlanStatus, RiskLevel, SamplingMode
from schemas.common import (
    LongText,
    NoControl,
    NoControlButNewline,
    NonNegativeInt,
    NotNull,
    RegionCode,
    ShortText,
    Text,
    Timestamp,
    Username,
)

RATE_PLACES = 6  # n × rate stays exact in the default 28-digit decimal context for n < 10^21


def _rate_text(value: Any) -> Any:
    """A number is taken as its decimal text (0.05 → "0.05"); text is kept as it was given."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _checked_rate(text: str) -> str:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise PydanticCustomError("validation_error", "抽取比例应为 0–1 之间的小数") from None
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
        raise PydanticCustomError("validation_error", "抽取比例须在 0–1 之间")
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        raise PydanticCustomError("validation_error", "抽取比例最多保留 6 位小数")
    return "0" if rate.is_zero() and text.startswith("-") else text


# A sampling rate: an exact decimal in [0, 1] (NaN, sNaN and infinities refused before any
# comparison), kept as the very text it was given ("0.05", "5e-2"): the announcement's digest
# covers that text and the draw computes ceil(n × rate) from it in exact decimal arithmetic.
Rate = Annotated[
    str,
    BeforeValidator(_rate_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=16),
    AfterValidator(_checked_rate),
]


class RiskRates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: Rate
    medium: Rate
    high: Rate


class RateSampling(BaseModel):
    """Risk-differentiated: a rate for each level; each level is one stratum."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal[SamplingMode.RATE]
    rates: RiskRates


class CountSampling(BaseModel):
    """A fixed number of objects from the single stratum `all`."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal[SamplingMode.COUNT]
    count: int = Field(ge=1, le=MAX_PICKS)


Sampling = Annotated[RateSampling | CountSampling, Field(discriminator="mode")]


class InspectionItemCreate(BaseModel):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
    name: ShortText
    legal_basis: LongText | None = None  # what the item checks against (laws, articles)
    method: LongText | None = None  # how it is checked


class InspectionItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    active: bool
    legal_basis: str | None
    method: str | None


class PublicInspectionItem(BaseModel):
    """An item in use, as anyone reads it (GET /public/inspection-items)."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    legal_basis: str | None
    method: str | None


class InspectionItemUpdate(BaseModel):
    """Rename an item, take it out of (or back into) use, or set its legal basis and method
    (`null` clears those two); all optional."""

    name: Annotated[ShortText | None, NotNull] = None
    active: Annotated[bool | None, NotNull] = None
    legal_basis: LongText | None = None
    method: LongText | None = None


class InspectorCreate(BaseModel):
    name: ShortText
    certificate_no: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32), NoControl
    ]
    jurisdiction: RegionCode
    active: bool = True
    conflicts: list[Annotated[str, StringConstraints(max_length=18), NoControl]] = Field(
        default_factory=list
    )
    username: Username | None = None


class InspectorUpdate(BaseModel):
    name: Annotated[ShortText | None, NotNull] = None
    active: Annotated[bool | None, NotNull] = None
    conflicts: Annotated[
        list[Annotated[str, StringConstraints(max_length=18), NoControl]] | None, NotNull
    ] = None


class InspectorPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    certificate_no: str
    jurisdiction: str
    active: bool
    conflicts: list[str]
    user_id: int | None


class RiskOverride(BaseModel):
    level: RiskLevel | None
    reason: LongText


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    region_code: RegionCode
    item_codes: list[Annotated[str, StringConstraints(max_length=32), NoControl]] = Field(
        min_length=1, max_length=50
    )
    sampling: Sampling
    team_size: int = Field(default=2, ge=2, le=10)
    exclude_recent_days: int = Field(default=365, ge=0, le=3650)
    period_start: date
    period_end: date
    randomness_sources: LongText


PlanItemCodes = list[Annotated[str, StringConstraints(max_length=32), NoControl]]


class PlanUpdate(BaseModel):
    """A draft plan's fields, as on create, each optional (`null` is refused: leave it out)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text | None, NotNull] = None
    region_code: Annotated[RegionCode | None, NotNull] = None
    item_codes: Annotated[
        Annotated[PlanItemCodes, Field(min_length=1, max_length=50)] | None, NotNull
    ] = None
    sampling: Annotated[Sampling | None, NotNull] = None
    team_size: Annotated[int | None, Field(ge=2, le=10), NotNull] = None
    exclude_recent_days: Annotated[int | None, Field(ge=0, le=3650), NotNull] = None
    period_start: Annotated[date | None, NotNull] = None
    period_end: Annotated[date | None, NotNull] = None
    randomness_sources: Annotated[LongText | None, NotNull] = None


class PlanCancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: LongText


class PlanItem(BaseModel):
    """An item of a plan with its name (from the inspection-item list)."""

    code: str
    name: str


class DrawRequest(BaseModel):
    sources: list[list[NonNegativeInt]] = Field(min_length=1, max_length=20)


class PlanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    region_code: str
    status: PlanStatus
    item_codes: list[str]
    sampling: Sampling
    team_size: int
    period_start: date
    period_end: date
    digest: str | None
    announced_at: Timestamp | None
    drawn_at: Timestamp | None
    cancellation_reason: str | None = None
    cancelled_at: Timestamp | None = None


Findings = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), NoControlButNewline
]


class ResultRecord(BaseModel):
    """A result; `rectify_by` (a date after `inspected_on`) is required for `rectification`
    and only allowed with it."""

    model_config = ConfigDict(extra="forbid")

    inspected_on: date
    outcome: Outcome
    findings: Findings = ""
    rectify_by: date | None = None


class FollowUpRecord(BaseModel):
    """The follow-up check (整改复查) of a rectification: it closes the inspection."""

    model_config = ConfigDict(extra="forbid")

    inspected_on: date
    outcome: FollowUpOutcome
    findings: Findings = ""


class FollowUpPublic(BaseModel):
    inspected_on: date
    outcome: FollowUpOutcome
    findings: str | None


class AssignedOutlet(BaseModel):
    """Where the inspected outlet is, as in force (coordinates GCJ-02, null when unknown)."""

    name: str
    address: str
    county_name: str | None
    township_name: str | None
    latitude: float | None
    longitude: float | None


class AssignedOperator(BaseModel):
    name: str
    contact_name: str
    contact_mobile: str


class InspectionPublic(BaseModel):
    """An assignment as its inspector sees it (GET /inspections, /inspections/{id})."""

    id: int
    plan_id: int
    plan_name: str
    m: int
    filing_id: int
    filing_no: str
    stratum: str
    team: list[str]
    outlet: AssignedOutlet
    operator: AssignedOperator
    items: list[PlanItem]
    period_start: date
    period_end: date
    inspected_on: date | None
    outcome: Outcome | None
    findings: str | None
    rectify_by: date | None
    recorded_at: Timestamp | None
    follow_up: FollowUpPublic | None
    closed: bool  # a result recorded, and for a rectification its follow-up too


class OperatorInspection(BaseModel):
    """An inspection of one of the operator's outlets (GET /inspections by an operator): the
    notice (plan, items, period, team certificate numbers, what to prepare) and the result."""

    id: int
    plan_id: int
    plan_name: str
    filing_id: int
    filing_no: str
    outlet_name: str
    outlet_address: str
    items: list[PlanItem]
    period_start: date
    period_end: date
    team: list[str]  # the inspectors' enforcement certificate numbers
    prepare: str
    inspected_on: date | None
    outcome: Outcome | None
    findings: str | None
    rectify_by: date | None
    follow_up: FollowUpPublic | None


class OverdueRectification(BaseModel):
    """A rectification whose deadline has passed with no follow-up recorded."""

    inspection_id: int
    plan_id: int
    filing_no: str
    outlet_name: str
    team: list[str]
    inspected_on: date | None
    rectify_by: date


class PublicPlanSummary(BaseModel):
    """An announced or drawn plan in the public list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    region_code: str
    status: PlanStatus
    digest: str | None
    announced_at: Timestamp | None
    drawn_at: Timestamp | None
    period_start: date
    period_end: date
    cancellation_reason: str | None = None
    cancelled_at: Timestamp | None = None


class PublishedStratum(BaseModel):
    label: str
    rate: str | None
    candidates: list[str]
    selected: list[str]


class PublishedAssignment(BaseModel):
    m: int
    filing_no: str
    eligible: list[str]
    team: list[str]
    inspection_id: int


class PublishedResult(BaseModel):
    """A result as published: the outlet as drawn, the deadline and the follow-up (never the
    evidence files: photos show parcels' personal data)."""

    filing_no: str
    outlet_name: str
    outlet_address: str
    inspected_on: date | None
    outcome: Outcome
    findings: str | None
    rectify_by: date | None = None
    follow_up: FollowUpPublic | None = None


class PublishedPlan(BaseModel):
    """Everything SPEC §6 step 5 publishes: enough for anyone to re-run the draw."""

    id: int
    name: str
    region_code: str
    item_codes: list[str]
    items: list[PlanItem] = Field(default_factory=list)  # names: not covered by the digest
    sampling: Sampling
    team_size: int
    exclude_recent_days: int
    period_start: date
    period_end: date
    randomness_sources: str
    strata: list[PublishedStratum]
    pool: list[str]
    status: PlanStatus
    digest: str | None
    announced_at: Timestamp | None
    drawn_at: Timestamp | None
    sources: list[list[int]] | None
    key_string: str | None
    cancellation_reason: str | None = None
    cancelled_at: Timestamp | None = None
    assignments: list[PublishedAssignment]
    results: list[PublishedResult]


class DrawVerification(BaseModel):
    """The draw recomputed from the published plan alone."""

    verified: bool
    key_string: str | None
    problems: list[str]
    strata: list[dict[str, Any]]
    teams: list[dict[str, Any]]


class EvidencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    sha256: str
    size: int
    content_type: str
