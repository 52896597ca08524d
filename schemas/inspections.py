from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.common import LongText, RegionCode, ShortText, Text, Username

Outcome = Literal["no_problem", "rectification", "case_filed", "not_found", "refused"]


class InspectionItemCreate(BaseModel):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
    name: ShortText


class InspectionItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    active: bool


class InspectorCreate(BaseModel):
    name: ShortText
    certificate_no: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32)
    ]
    jurisdiction: RegionCode
    active: bool = True
    conflicts: list[Annotated[str, StringConstraints(max_length=18)]] = Field(default_factory=list)
    username: Username | None = None


class InspectorUpdate(BaseModel):
    name: ShortText | None = None
    active: bool | None = None
    conflicts: list[Annotated[str, StringConstraints(max_length=18)]] | None = None


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
    level: Literal["low", "medium", "high"] | None
    reason: LongText


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    region_code: RegionCode
    item_codes: list[str] = Field(min_length=1, max_length=50)
    sampling: dict[str, Any]
    team_size: int = Field(default=2, ge=2, le=10)
    exclude_recent_days: int = Field(default=365, ge=0, le=3650)
    period_start: date
    period_end: date
    randomness_sources: LongText


class DrawRequest(BaseModel):
    sources: list[list[Annotated[int, Field(ge=0)]]] = Field(min_length=1, max_length=20)


class PlanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    region_code: str
    status: str
    item_codes: list[str]
    sampling: dict[str, Any]
    team_size: int
    period_start: date
    period_end: date
    digest: str | None
    announced_at: datetime | None
    drawn_at: datetime | None


class ResultRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspected_on: date
    outcome: Outcome
    findings: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class InspectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    m: int
    filing_id: int
    filing_no: str
    stratum: str
    team: list[str]
    inspected_on: date | None
    outcome: str | None
    findings: str | None
    recorded_at: datetime | None
