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
from services.oversight import audit
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
    password: str | None = None,
    password_hash: str | None = None,
) -> Enterprise:
    """A pending enterprise and its operator account, which cannot log in until approved.

    A request hashes the password before its write transaction and passes `password_hash`;
    given only `password` (scripts, tests), it is hashed here before anything is read."""
    if password_hash is None:
        if password is None:
            raise ValueError("a password or its hash is required")
        password_hash = hash_password(password)
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
    owner = User(
        username=username,
        password_hash=password_hash,
        role=Role.OPERATOR,
        jurisdiction=region_code,
        display_name=name,
        enterprise_id=enterprise.id,
        mobile=enterprise.contact_mobile,
        is_owner=True,
    )
    session.add(owner)
    session.flush()
    audit.append(
        session,
        actor_id=owner.id,
        action="enterprise.register",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data={"uscc": enterprise.uscc, "licence_no": licence_no, "username": username},
    )
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
    audit.append(
        session,
        actor_id=approver.id,
        action="enterprise.approve",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data={"uscc": enterprise.uscc},
    )
    return enterprise
