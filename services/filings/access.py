"""Who may see a filing (SPEC §2): an operator its enterprise's, staff their jurisdiction's, an
inspector (reading only) those its team inspects until the inspection is closed; who may act on
it; and its ETag / If-Match version check.

Staff see a filing when their jurisdiction covers its county in force (`Filing.county_code`) or
the county its open change moves it to. They decide a submission (accept, return) only when they
cover the county the submitted revision puts the outlet in: a change that moves an outlet to
another county is decided there, while the old county may still read it. Actions on the filing
in force (revocation, risk, lapse) need its county in force.
"""

from sqlmodel import Session

from domain.errors import (
    NotFound,
    OutsideJurisdiction,
    VersionConflict,
)
from domain.vocabulary import STAFF_ROLES, Role
from models.base import pk
from models.filing import (
    Filing,
    FilingRevision,
)
from models.user import User
from services.inspections import assignments
from services.reference import regions


def _open_change_county(session: Session, filing: Filing) -> str | None:
    """The county of a filed outlet's open change (None when there is none)."""
    if filing.current_revision_id is None or filing.open_revision_id is None:
        return None
    change = session.get(FilingRevision, filing.open_revision_id)
    return change.county_code if change is not None else None


def can_see(session: Session, user: User, filing: Filing, *, writing: bool = False) -> bool:
    if user.role == Role.OPERATOR:
        return filing.enterprise_id == user.enterprise_id
    if user.role == Role.INSPECTOR:
        # Reads only, while the caller's team has the outlet's inspection open (SPEC §4.1).
        return not writing and assignments.inspects(session, user, pk(filing))
    if user.role in STAFF_ROLES:
        if regions.covers(user.jurisdiction, filing.county_code):
            return True
        moving_to = _open_change_county(session, filing)
        return moving_to is not None and regions.covers(user.jurisdiction, moving_to)
    return False


def get_for(session: Session, filing_id: int, user: User, *, for_update: bool = False) -> Filing:
    """The filing if `user` may see it; otherwise it does not exist for them (404)."""
    filing = session.get(
        Filing, filing_id, with_for_update=for_update, populate_existing=for_update
    )
    if filing is None or not can_see(session, user, filing, writing=for_update):
        raise NotFound("备案记录不存在")
    return filing


def require_decides(user: User, rev: FilingRevision) -> None:
    """Accepting or returning a submission needs the county it puts the outlet in."""
    if not regions.covers(user.jurisdiction, rev.county_code):
        raise OutsideJurisdiction("该申请所涉网点不在本辖区，应由网点所在县区审核")


def require_in_force_county(user: User, filing: Filing) -> None:
    """Acting on the filing in force (revocation, risk level) needs its county in force."""
    if not regions.covers(user.jurisdiction, filing.county_code):
        raise OutsideJurisdiction("该网点现备案所在县区不在本辖区")


def etag(filing: Filing) -> str:
    return f'"{filing.id}.{filing.version}"'


def check_version(filing: Filing, if_match: str | None) -> None:
    """Honours If-Match: a stale ETag is a 412, so nobody overwrites what they have not seen."""
    if if_match is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag(filing) not in candidates:
        raise VersionConflict()


def check_form_version(filing: Filing, version: str | None) -> None:
    """A page form's hidden `version` (the filing's version when the form was shown), checked
    as If-Match is: a missing or stale one is a VersionConflict (the form always sends it)."""
    if version is None or not version.isdigit() or len(version) > 18:
        raise VersionConflict()
    check_version(filing, f'"{filing.id}.{int(version)}"')
