"""The rules a filing's content must meet beyond its shape, and the deadlines it runs against."""

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from domain.errors import FieldError, OutsideLicenceScope, ValidationFailed
from domain.vocabulary import LicenceStatus, OutletType, RegionLevel
from domain.working_days import PACKAGE_ONLY, WorkingCalendar, add_working_days
from models.brand import Brand
from models.region import Region
from services.reference import regions

FILING_DAYS = 20  # an outlet is filed within 20 days of opening
CHANGE_DAYS = 10  # a change is filed within 10 days
REVIEW_WORKING_DAYS = 5  # a complete submission is filed within 5 working days
RETURN_WORKING_DAYS = 2  # an incomplete one is returned within 2 working days

ALWAYS_REQUIRED = ("business_licence", "id_document", "premises_photo")


def content_errors(session: Session, content: dict[str, Any], *, today: date) -> list[FieldError]:
    """Every rule the (shape-valid) content breaks, all at once."""
    outlet = content["outlet"]
    errors: list[FieldError] = []
    county = session.get(Region, outlet["county_code"])
    township = session.get(Region, outlet["township_code"])
    if county is None or county.level != RegionLevel.COUNTY:
        errors.append(FieldError("outlet.county_code", "unknown_region", "区县代码不存在"))
    if township is None or township.level not in (RegionLevel.TOWNSHIP, RegionLevel.SUBDISTRICT):
        errors.append(
            FieldError("outlet.township_code", "unknown_region", "乡镇（街道）代码不存在")
        )
    elif county is not None and township.parent_code != county.code:
        errors.append(
            FieldError("outlet.township_code", "region_mismatch", "乡镇（街道）不属于所选区县")
        )
    codes = list(dict.fromkeys(outlet["brands"]))
    known = set(
        session.exec(select(Brand.code).where(col(Brand.code).in_(codes), Brand.active)).all()
    )
    for code in codes:
        if code not in known:
            errors.append(
                FieldError("outlet.brands", "unknown_brand", f"品牌 {code} 不在品牌目录中")
            )
    opened_on = date.fromisoformat(str(outlet["opened_on"]))
    if opened_on > today:
        errors.append(FieldError("outlet.opened_on", "future_date", "开办日期不能晚于今天"))
    if outlet["type"] == OutletType.COOPERATIVE and not content.get("partner"):
        errors.append(FieldError("partner", "partner_required", "合作开办的网点须填写合作方信息"))
    return errors


def check_content(session: Session, content: dict[str, Any], *, today: date) -> None:
    errors = content_errors(session, content, today=today)
    if errors:
        raise ValidationFailed(errors)


_SEPARATORS = " \t\u3000,，、"


def street_address(session: Session, outlet: dict[str, Any]) -> str:
    """The street part of a (checked) outlet's address.

    The county and township are chosen by code, so a leading run of the chosen divisions' own
    names (province, city, county, township, each optional but in that order, e.g.
    `广西壮族自治区贺州市八步区贺街镇河东街 12 号`) only repeats them and is removed: pages show
    the names from the codes followed by the address. An address that is only those names is
    refused (nothing of the street would be left); one without them is kept as it is.
    """
    address: str = outlet["address"]
    names: list[str] = []
    region = regions.get_region(session, outlet["township_code"])
    while region is not None:
        names.insert(0, region.name)
        region = regions.get_region(session, region.parent_code) if region.parent_code else None
    rest = address.lstrip(_SEPARATORS)
    for name in names:
        if name and rest.startswith(name):
            rest = rest[len(name) :].lstrip(_SEPARATORS)
    if rest == address.lstrip(_SEPARATORS):
        return address
    if not rest:
        raise ValidationFailed.single(
            "outlet.address",
            "validation_error",
            "详细地址须写明街道（村、社区）和门牌号，不能只写省市县乡名称",
        )
    return rest.rstrip()


def required_documents(*, outlet_type: str, is_branch: bool) -> list[str]:
    kinds = list(ALWAYS_REQUIRED)
    if is_branch:
        kinds.append("authorisation_letter")
    if outlet_type == OutletType.COOPERATIVE:
        kinds.append("cooperation_agreement")
    return kinds


def missing_documents(present: set[str], *, outlet_type: str, is_branch: bool) -> list[str]:
    return [
        k
        for k in required_documents(outlet_type=outlet_type, is_branch=is_branch)
        if k not in present
    ]


def due_on(started_on: date, allowed_days: int) -> date:
    """The last day a submission counts as on time (`started_on` + `allowed_days`)."""
    return started_on + timedelta(days=allowed_days)


def filing_due_on(opened_on: date) -> date:
    """The last day to file an outlet opened on `opened_on` (FILING_DAYS)."""
    return due_on(opened_on, FILING_DAYS)


def change_due_on(changed_on: date) -> date:
    """The last day to file a change made on `changed_on` (CHANGE_DAYS)."""
    return due_on(changed_on, CHANGE_DAYS)


def is_late(*, submitted_on: date, started_on: date, allowed_days: int) -> bool:
    return submitted_on > due_on(started_on, allowed_days)


def deadlines(submitted_on: date, calendar: WorkingCalendar = PACKAGE_ONLY) -> tuple[date, date]:
    """(review due, return due) for a submission made on `submitted_on`, counted on `calendar`
    (`services.reference.calendar.current`: the loaded years too)."""
    return (
        add_working_days(submitted_on, REVIEW_WORKING_DAYS, calendar),
        add_working_days(submitted_on, RETURN_WORKING_DAYS, calendar),
    )


def merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Content with each patched section's fields replaced; `partner: null` removes the partner."""
    merged = {
        key: (dict(value) if isinstance(value, dict) else value) for key, value in current.items()
    }
    for section, fields in patch.items():
        if fields is None:
            if section == "partner":
                merged["partner"] = None
            continue
        merged[section] = {**(merged.get(section) or {}), **fields}
    return merged


# --- the operator's licence (2018 filing rules, art. 8; SPEC §1) ------------------------------


def city_code(region_code: str) -> str:
    """The city-level code of a region (`451102` or `451102100` → `451100`); a province's code
    stands for itself (`450000`)."""
    if region_code[2:4] == "00":
        return region_code[:6]
    return region_code[:4] + "00"


def licensed_regions(*, region_code: str, licence_regions: list[str] | None) -> list[str]:
    """The licensed area: the regions recorded, or (none recorded) the enterprise's city."""
    return list(licence_regions) if licence_regions else [city_code(region_code)]


def licence_status(
    *,
    valid_from: date | None,
    valid_until: date | None,
    cancelled: bool,
    today: date,
) -> LicenceStatus:
    """`cancelled` once revoked; `not_yet_valid` before its start; `unknown` without an end
    date; `expired` past its end; otherwise `valid`."""
    if cancelled:
        return LicenceStatus.CANCELLED
    if valid_from is not None and today < valid_from:
        return LicenceStatus.NOT_YET_VALID
    if valid_until is None:
        return LicenceStatus.UNKNOWN
    return LicenceStatus.EXPIRED if today > valid_until else LicenceStatus.VALID


# A licence in one of these statuses lets the operator file (an unknown validity does not block;
# `check_licence_scope` refuses the others, `LicenceCancelled` a cancelled one).
FILING_LICENCE_STATUSES = (LicenceStatus.VALID, LicenceStatus.UNKNOWN)


def licence_allows_filing(status: str) -> bool:
    return status in FILING_LICENCE_STATUSES


def licence_scope_errors(
    *,
    county_code: str,
    township_code: str,
    licensed: list[str],
    valid_from: date | None,
    valid_until: date | None,
    today: date,
) -> list[FieldError]:
    """Why an outlet at (county, township) may not be filed under this licence today: outside
    every licensed region, or outside the validity (an unknown bound does not block)."""
    errors: list[FieldError] = []
    inside = any(
        regions.covers(region, township_code) or regions.covers(region, county_code)
        for region in licensed
    )
    if not inside:
        errors.append(
            FieldError(
                "outlet.county_code",
                "outside_licence_scope",
                f"网点所在地不在企业快递业务经营许可的经营地域内（许可地域：{'、'.join(licensed)}）",
            )
        )
    if valid_from is not None and today < valid_from:
        errors.append(
            FieldError(
                "licence_valid_from",
                "outside_licence_scope",
                f"企业快递业务经营许可自 {valid_from.isoformat()} 起生效，目前尚未生效",
            )
        )
    if valid_until is not None and today > valid_until:
        errors.append(
            FieldError(
                "licence_valid_until",
                "outside_licence_scope",
                f"企业快递业务经营许可已于 {valid_until.isoformat()} 到期，续期后方可备案",
            )
        )
    return errors


def check_licence_scope(
    *,
    county_code: str,
    township_code: str,
    licensed: list[str],
    valid_from: date | None,
    valid_until: date | None,
    today: date,
) -> None:
    """422 `outside_licence_scope` with every reason, or nothing."""
    errors = licence_scope_errors(
        county_code=county_code,
        township_code=township_code,
        licensed=licensed,
        valid_from=valid_from,
        valid_until=valid_until,
        today=today,
    )
    if errors:
        raise OutsideLicenceScope(errors)
