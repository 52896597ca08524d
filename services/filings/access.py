"""Who may see a filing (SPEC §2): an operator its enterprise's, staff their jurisdiction's; and
its ETag / If-Match version check."""

from sqlmodel import Session

from domain.errors import (
    NotFound,
    VersionConflict,
)
from domain.vocabulary import STAFF_ROLES, Role
from models.filing import (
    Filing,
)
from models.user import User
from services.reference import regions


def can_see(user: User, filing: Filing) -> bool:
    if user.role == Role.OPERATOR:
        return filing.enterprise_id == user.enterprise_id
    if user.role in STAFF_ROLES:
        return regions.covers(user.jurisdiction, filing.county_code)
    return False


def get_for(session: Session, filing_id: int, user: User, *, for_update: bool = False) -> Filing:
    """The filing if `user` may see it; otherwise it does not exist for them (404)."""
    filing = session.get(
        Filing, filing_id, with_for_update=for_update, populate_existing=for_update
    )
    if filing is None or not can_see(user, filing):
        raise NotFound("备案记录不存在")
    return filing


def etag(filing: Filing) -> str:
    return f'"{filing.id}.{filing.version}"'


def check_version(filing: Filing, if_match: str | None) -> None:
    """Honours If-Match: a stale ETag is a 412, so nobody overwrites what they have not seen."""
    if if_match is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag(filing) not in candidates:
        raise VersionConflict()
