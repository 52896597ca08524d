"""Courier enterprises: public registration, approval by the administration."""

from sqlmodel import Session, col, select

from core import clock
from core.security import hash_password
from domain.errors import (
    DuplicateUscc,
    DuplicateUsername,
    FieldError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from domain.identifiers import normalise_mobile, normalise_uscc
from domain.vocabulary import EnterpriseStatus, Role
from models.enterprise import Enterprise
from models.user import User
from services.reference import regions


def register(
    session: Session,
    *,
    name: str,
    uscc: str,
    licence_no: str,
    region_code: str,
    is_branch: bool,
    contact_name: str,
    contact_mobile: str,
    username: str,
    password: str,
) -> Enterprise:
    """A pending enterprise and its operator account, which cannot log in until approved."""
    region = regions.get_region(session, region_code)
    if region is None:
        raise ValidationFailed([FieldError("region_code", "unknown_region", "所在地区代码不存在")])
    uscc = normalise_uscc(uscc)
    if session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first() is not None:
        raise DuplicateUscc()
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise DuplicateUsername()
    enterprise = Enterprise(
        name=name,
        uscc=uscc,
        licence_no=licence_no,
        region_code=region_code,
        is_branch=is_branch,
        contact_name=contact_name,
        contact_mobile=normalise_mobile(contact_mobile),
    )
    session.add(enterprise)
    session.flush()
    session.add(
        User(
            username=username,
            password_hash=hash_password(password),
            role=Role.OPERATOR,
            jurisdiction=region_code,
            display_name=name,
            enterprise_id=enterprise.id,
        )
    )
    session.flush()
    return enterprise


def get_within(
    session: Session, enterprise_id: int, *, within: str, for_update: bool = False
) -> Enterprise:
    """The enterprise if the jurisdiction covers it; otherwise it does not exist for the caller."""
    enterprise = session.get(Enterprise, enterprise_id, with_for_update=for_update)
    if enterprise is None or not regions.covers(within, enterprise.region_code):
        raise NotFound("企业不存在")
    return enterprise


def list_within(session: Session, *, within: str, status: str | None = None) -> list[Enterprise]:
    query = select(Enterprise).where(
        col(Enterprise.region_code).startswith(regions.region_prefix(within))
    )
    if status:
        query = query.where(Enterprise.status == status)
    return list(session.exec(query.order_by(col(Enterprise.id))).all())


def approve(session: Session, enterprise: Enterprise, *, approver: User) -> Enterprise:
    if enterprise.status != EnterpriseStatus.PENDING:
        raise InvalidTransition("该企业已审核通过")
    enterprise.status = EnterpriseStatus.APPROVED
    enterprise.approved_at = clock.now()
    enterprise.approved_by_id = approver.id
    session.add(enterprise)
    session.flush()
    return enterprise
