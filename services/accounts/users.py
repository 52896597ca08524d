"""Users: creation, login throttled in the database (per username and per client address),
management of staff accounts.

Password hashing is slow (Argon2) and must not run inside a write transaction: callers hash
first (`core.security.hash_password`) and pass `password_hash`; a login is read
(`start_login`), verified with no transaction open (`password_matches`), then counted in a short
write (`finish_login`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from core.security import decode_access_token, hash_password, verify_password
from domain.errors import (
    DuplicateUsername,
    FieldError,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
    field_error,
)
from domain.vocabulary import EnterpriseStatus, Role
from models.enterprise import Enterprise
from models.user import User
from services.accounts import throttling
from services.oversight import audit
from services.reference import regions

# The accounts admins manage: staff. Operator accounts are their enterprise owner's to manage.
MANAGED_ROLES = (Role.REVIEWER, Role.INSPECTOR, Role.ADMIN)
MAX_USERNAME_LENGTH = 64


class LoginFailed(NotAuthenticated):
    code = "invalid_credentials"
    message = "用户名或密码错误"


class AccountPending(NotAuthenticated):
    code = "account_pending"
    message = "企业登记尚未审核通过，暂不能登录"


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user a valid access token names (API bearer token or page session cookie).
    A token dies with its user's deactivation or password change (its version is then behind
    the user's); a malformed or out-of-range subject is None like any other."""
    claims = decode_access_token(token) if token else None
    user = session.get(User, claims.user_id) if claims is not None else None
    if (
        claims is None
        or user is None
        or not user.active
        or user.token_version != claims.token_version
    ):
        return None
    return user


def _password_hash(password: str | None, password_hash: str | None) -> str:
    """The hash to store: given (hashed before the transaction) or computed here (CLI, tests)."""
    if password_hash is not None:
        return password_hash
    if password is None:
        raise ValueError("a password or its hash is required")
    return hash_password(password)


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    jurisdiction: str,
    display_name: str,
    password: str | None = None,
    password_hash: str | None = None,
    enterprise_id: int | None = None,
    actor: User | None = None,
) -> User:
    """A new account. `actor` is the admin creating it (None: the command line)."""
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
        password_hash=_password_hash(password, password_hash),
        role=role,
        jurisdiction=jurisdiction,
        display_name=display_name,
        enterprise_id=enterprise_id,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor_id=actor.id if actor else None,
        action="user.create",
        entity="user",
        entity_id=user.id,
        data={
            "username": username,
            "role": role,
            "jurisdiction": jurisdiction,
            "display_name": display_name,
            "enterprise_id": enterprise_id,
            "active": user.active,
        },
        region_code=jurisdiction,
    )
    return user


# --- login ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    """What the read half of a login found: the keys it is counted under and the user's hash
    (None when there is no such active user: the password is then checked against a dummy)."""

    keys: tuple[str, str]
    user_id: int | None
    password_hash: str | None


def start_login(session: Session, *, username: str, address: str) -> LoginAttempt:
    """The read half: 429 at once while the username or the client address is locked (no
    password is checked then); otherwise the user to check the password against. Writes nothing.
    """
    user_key = throttling.login_user_key(username)
    keys = (user_key, throttling.login_address_key(address))
    throttling.check(session, keys)
    user = None
    if len(username) <= MAX_USERNAME_LENGTH and username.isprintable():  # else no such user
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        return LoginAttempt(keys, None, None)
    return LoginAttempt(keys, user.id, user.password_hash)


def password_matches(attempt: LoginAttempt, password: str) -> bool:
    """Exactly one Argon2 verification, for an existing user or not. Run it outside any
    transaction: it takes a core for a fraction of a second."""
    return verify_password(password, attempt.password_hash)


def finish_login(session: Session, attempt: LoginAttempt, *, matched: bool) -> User | None:
    """The write half, short: the user for good credentials, None for bad ones (counted against
    the username and the client address). A key locked meanwhile by concurrent failures is a
    429 whatever the password, so parallel guesses learn nothing once the limit is reached.

    A failure returns rather than raises so that the request's transaction commits the count.
    """
    user_key, address_key = attempt.keys
    throttling.check(session, attempt.keys, for_update=True)
    user = None
    if matched and attempt.user_id is not None:
        user = session.get(User, attempt.user_id, populate_existing=True)
    if user is None or not user.active or user.password_hash != attempt.password_hash:
        throttling.hit(session, user_key, throttling.login_per_user())
        throttling.hit(session, address_key, throttling.login_per_address())
        return None
    if user.enterprise_id is not None:
        # A cancelled licence leaves the enterprise approved: its operators keep reading their
        # (lapsed) filings and notices.
        # The owner of a pending or rejected registration logs in to see, correct and resubmit
        # it (every other operator endpoint then answers 403 `enterprise_not_approved`).
        enterprise = session.get(Enterprise, user.enterprise_id)
        applicant = (
            user.is_owner
            and enterprise is not None
            and enterprise.status
            in (
                EnterpriseStatus.PENDING,
                EnterpriseStatus.REJECTED,
            )
        )
        if enterprise is None or (enterprise.status != EnterpriseStatus.APPROVED and not applicant):
            raise AccountPending()
    throttling.clear(session, user_key)
    return user


def authenticate(
    session: Session, *, username: str, password: str, address: str = "local"
) -> User | None:
    """The three halves in one transaction, for callers outside a request (scripts, benches).
    A request runs them apart, so that no write transaction waits on Argon2."""
    attempt = start_login(session, username=username, address=address)
    return finish_login(session, attempt, matched=password_matches(attempt, password))


# --- staff accounts -------------------------------------------------------------------------


def list_users(session: Session, *, within: str) -> list[User]:
    """Staff accounts inside `within`; operator accounts belong to their enterprise's owner."""
    prefix = regions.region_prefix(within)
    return list(
        session.exec(
            select(User)
            .where(col(User.jurisdiction).startswith(prefix), col(User.role).in_(MANAGED_ROLES))
            .order_by(col(User.id))
        ).all()
    )


def get_user_within(
    session: Session, user_id: int, *, within: str, for_update: bool = False
) -> User:
    """A staff account inside `within`; an operator account does not exist for an admin."""
    user = session.get(User, user_id, with_for_update=for_update, populate_existing=for_update)
    if (
        user is None
        or user.role not in MANAGED_ROLES
        or not regions.covers(within, user.jurisdiction)
    ):
        raise NotFound("用户不存在")
    return user


def update_user(
    session: Session,
    user: User,
    *,
    manager_jurisdiction: str,
    actor: User | None = None,
    display_name: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    active: bool | None = None,
    jurisdiction: str | None = None,
) -> User:
    """Changes a staff account. A new password or a deactivation bumps the token version, so
    every token issued before stops working (also after a later reactivation)."""
    changes: dict[str, Any] = {}
    if jurisdiction is not None:
        if regions.get_region(session, jurisdiction) is None:
            raise field_error("jurisdiction", "unknown_region", "辖区代码不存在")
        if not regions.covers(manager_jurisdiction, jurisdiction):
            raise field_error("jurisdiction", "forbidden", "不能把用户设到本辖区以外")
        if jurisdiction != user.jurisdiction:
            changes["jurisdiction"] = {"from": user.jurisdiction, "to": jurisdiction}
            user.jurisdiction = jurisdiction
    if display_name is not None and display_name != user.display_name:
        changes["display_name"] = {"from": user.display_name, "to": display_name}
        user.display_name = display_name
    if password is not None or password_hash is not None:
        user.password_hash = _password_hash(password, password_hash)
        user.token_version += 1
        changes["password_changed"] = True
    if active is not None and active != user.active:
        changes["active"] = {"from": user.active, "to": active}
        if not active:
            user.token_version += 1
        user.active = active
    session.add(user)
    session.flush()
    if changes:
        audit.append(
            session,
            actor_id=actor.id if actor else None,
            action="user.update",
            entity="user",
            entity_id=user.id,
            data=changes,
            region_code=user.jurisdiction,
        )
    return user


# --- self-service ---------------------------------------------------------------------------


class WrongCurrentPassword(ValidationFailed):
    def __init__(self) -> None:
        super().__init__([FieldError("current_password", "invalid_credentials", "当前密码不正确")])


def enterprise_status(session: Session, user: User) -> str | None:
    """An operator's enterprise's status (SPEC §4.1 `GET /auth/me`); None for staff."""
    if user.enterprise_id is None:
        return None
    enterprise = session.get(Enterprise, user.enterprise_id)
    return enterprise.status if enterprise is not None else None


def password_change_key(user: User) -> str:
    """Failed current-password checks count with failed logins of the same username: the
    change form is no second, unthrottled oracle for the password."""
    return throttling.login_user_key(user.username)


def check_password_change_allowed(session: Session, user: User) -> None:
    """429 while the username is locked (by failed logins or failed current-password checks)."""
    throttling.check(session, [password_change_key(user)])


def update_self(
    session: Session,
    user: User,
    *,
    contacts: dict[str, str | None],
    verified_hash: str | None = None,
    matched: bool = False,
    new_password_hash: str | None = None,
) -> User | WrongCurrentPassword:
    """The caller's own contact details and password. For a new password, `verified_hash` is
    the hash the current password was checked against (outside the transaction) and `matched`
    the outcome; a failure is counted and returned (not raised: the count must be committed),
    and nothing else changes. A new password ends every token of the account (this one too)."""
    changed: list[str] = []
    if new_password_hash is not None:
        key = password_change_key(user)
        throttling.check(session, [key], for_update=True)
        session.get(User, user.id, with_for_update=True, populate_existing=True)
        if not matched or user.password_hash != verified_hash:
            throttling.hit(session, key, throttling.login_per_user())
            return WrongCurrentPassword()
        throttling.clear(session, key)
        user.password_hash = new_password_hash
        user.token_version += 1
        changed.append("password")
    for name in ("email", "mobile"):
        if name in contacts and contacts[name] != getattr(user, name):
            setattr(user, name, contacts[name])
            changed.append(name)
    session.add(user)
    session.flush()
    if changed:
        audit.append(
            session,
            actor_id=user.id,
            action="user.self_update",
            entity="user",
            entity_id=user.id,
            data={"changed": changed},  # which fields, never their values
            region_code=user.jurisdiction,
        )
    return user


RunOutsideTransaction = Callable[[Callable[[], tuple[bool, str]]], tuple[bool, str]]


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str | None,
    new_password: str,
    outside_transaction: RunOutsideTransaction,
    contacts: dict[str, str | None] | None = None,
) -> User | WrongCurrentPassword:
    """The caller's new password (PATCH /auth/me and the /account page): the current password
    is required (422), the username must not be locked (429), then the current password is
    checked and the new one hashed by `outside_transaction` (the caller's
    `run_between_transactions`: Argon2 with no transaction open), then `update_self` counts a
    failure (returned, not raised: the count must be committed) or sets the new hash."""
    if current_password is None:
        raise ValidationFailed.single(
            "current_password", "validation_error", "修改密码须提供当前密码"
        )
    check_password_change_allowed(session, user)
    verified_hash = user.password_hash

    def check_and_hash() -> tuple[bool, str]:
        # Argon2 at most twice, with no transaction open.
        if not verify_password(current_password, verified_hash):
            return False, ""
        return True, hash_password(new_password)

    matched, new_hash = outside_transaction(check_and_hash)
    return update_self(
        session,
        user,
        contacts=contacts or {},
        verified_hash=verified_hash,
        matched=matched,
        new_password_hash=new_hash,
    )
