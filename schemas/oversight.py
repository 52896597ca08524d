"""Oversight figures (`GET /stats/overview`): township coverage, filings, deadlines, inspections."""

from datetime import date

from pydantic import BaseModel

from schemas.common import Timestamp


class Township(BaseModel):
    code: str
    name: str


class CountyCoverage(BaseModel):
    county_code: str
    county_name: str
    townships: int
    covered: int
    uncovered: list[Township]
    ratio: float | None


class UncoveredInCounty(BaseModel):
    county_code: str
    county_name: str
    townships: list[Township]


class BrandCoverage(BaseModel):
    brand: str
    name: str
    covered: int
    townships: list[str]
    ratio: float | None


class Coverage(BaseModel):
    """The plan's goal: an outlet in force in every town and township (镇 and 乡)."""

    goal: float = 1.0
    townships: int
    covered: int
    ratio: float | None
    by_county: list[CountyCoverage]
    uncovered: list[UncoveredInCounty]
    by_brand: list[BrandCoverage]


class CountyFilings(BaseModel):
    county_code: str
    total: int
    in_force: int


class BrandOutlets(BaseModel):
    brand: str
    outlets_in_force: int


class LateShare(BaseModel):
    submitted: int
    late: int
    share: float | None


class FilingFigures(BaseModel):
    by_status: dict[str, int]
    by_county: list[CountyFilings]
    by_brand: list[BrandOutlets]
    late_filings: LateShare
    late_changes: LateShare


class OverdueSubmission(BaseModel):
    filing_id: int
    filing_no: str | None
    revision: int
    outlet_name: str
    county_code: str
    submitted_at: Timestamp | None
    review_due_on: date | None


class DeadlineFigures(BaseModel):
    accepted: int
    accepted_within_5_working_days: int
    accepted_within_share: float | None
    returned: int
    returned_within_2_working_days: int
    returned_within_share: float | None
    median_working_days_to_decision: float | None
    overdue: list[OverdueSubmission]


class OverdueResult(BaseModel):
    inspection_id: int
    plan_id: int
    filing_no: str
    team: list[str]
    due_on: date
    # Counted Monday to Friday: the year's official calendar is not loaded yet.
    due_provisional: bool = False
    recorded_on: date | None


class InspectionFigures(BaseModel):
    plans: dict[str, int]
    objects_drawn: int
    results_recorded: int
    outcomes: dict[str, int]
    published_within_20_working_days: int
    published_within_share: float | None
    overdue: int
    overdue_list: list[OverdueResult]


class StatsOverview(BaseModel):
    jurisdiction: str
    as_of: date
    coverage: Coverage
    filings: FilingFigures
    deadlines: DeadlineFigures
    inspections: InspectionFigures
