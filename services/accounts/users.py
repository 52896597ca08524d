"""Users: creation, login with per-user throttling stored in the database, management."""

import math
from datetime import timedelta

from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from core.security import hash_password, verify_password
from domain.errors import (
    DuplicateUsername,
    FieldError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationFailed,
    field_error,
)
from domain.vocabulary import EnterpriseStatus, Role
from models.base import aware
from models.enterprise import Enterprise
from models.user import User
from services.reference import regions


class LoginFailed(NotAuthenticated):
    code = "invalid_credentials"
    message = "用户名或密码错误"


class AccountPending(NotAuthenticated):
    code = "account_pending"
    message = "企业登记尚未审核通过，暂不能登录"


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    jurisdiction: str,
    display_name: str,
    enterprise_id: int | None = None,
) -> User:
    errors: list[FieldError] = []
    if role not in Role.values():
        errors.append(
            FieldError(
                "role", "validation_error", "角色应为 operator、reviewer、inspector 或 admin"
            )
        )
    if regions.get_region(session, jurisdiction) is None:
        errors.append(FieldError("jurisdiction", "unknown_region", "辖区代码不存在"))
    if role == Role.OPERATOR and enterprise_id is None:
        errors.append(FieldError("role", "validation_error", "经营者账号须通过企业登记创建"))
    if errors:
        raise ValidationFailed(errors)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise DuplicateUsername()
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        jurisdiction=jurisdiction,
        display_name=display_name,
        enterprise_id=enterprise_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The user for good credentials, None for bad ones; throttles a user after failures.

    The failure counter lives on the user row (locked with FOR UPDATE on PostgreSQL) so the limit
    holds across workers. A failure returns rather than raises so that the request's transaction
    commits the counter.
    """
    settings = get_settings()
    user = session.exec(select(User).where(User.username == username).with_for_update()).first()
    now = clock.now()
    if user is not None:
        locked_until = aware(user.locked_until)
        if locked_until is not None and locked_until > now:
            raise RateLimited(math.ceil((locked_until - now).total_seconds()))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        if user is not None:
            user.failed_login_count += 1
            if user.failed_login_count >= settings.login_max_failures:
                user.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
                user.failed_login_count = 0
            session.add(user)
            session.flush()
        return None
    if user.enterprise_id is not None:
        enterprise = session.get(Enterprise, user.enterprise_id)
        if enterprise is None or enterprise.status != EnterpriseStatus.APPROVED:
            raise AccountPending()
    if user.failed_login_count or user.locked_until:
        user.failed_login_count = 0
        user.locked_until = None
        session.add(user)
        session.flush()
    return user


def list_users(session: Session, *, within: str) -> list[User]:
    prefix = regions.region_prefix(within)
    return list(
        session.exec(
            select(User).where(col(User.jurisdiction).startswith(prefix)).order_by(col(User.id))
        ).all()
    )


def get_user_within(session: Session, user_id: int, *, within: str) -> User:
    user = session.get(User, user_id)
    if user is None or not regions.covers(within, user.jurisdiction):
        raise NotFound("用户不存在")
    return user


def update_user(
    session: Session,
    user: User,
    *,
    manager_jurisdiction: str,
    display_name: str | None = None,
    password: str | None = None,
    active: bool | None = None,
    jurisdiction: str | None = None,
) -> User:
    if jurisdiction is not None:
        if regions.get_region(session, jurisdiction) is None:
            raise field_error("jurisdiction", "unknown_region", "辖区代码不存在")
        if not regions.covers(manager_jurisdiction, jurisdiction):
            raise field_error("jurisdiction", "forbidden", "不能把用户设到本辖区以外")
        user.jurisdiction = jurisdiction
    if display_name is not None:
        user.display_name = display_name
    if password is not None:
        user.password_hash = hash_password(password)
    if active is not None:
        user.active = active
    session.add(user)
    session.flush()
    return user
