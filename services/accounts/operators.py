"""An enterprise's operator accounts, managed by its owner (SPEC §1, §4.1): the owner creates,
deactivates and resets them and may hand the owner role to another active account.

Passwords come hashed (the route hashes them with no transaction open, after a first check with
`owned_enterprise`). The writes then lock the rows they depend on and check again: the owner's
row (a concurrent handover changes it) and the account's, always in id order so two handovers
cannot deadlock. The database keeps one owner per enterprise (a partial unique index).
Audit entries carry ids and flags only, no names or contact details.
"""

from sqlmodel import Session, col, select

from domain.errors import (
    DuplicateUsername,
    EnterpriseNotApproved,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from domain.vocabulary import EnterpriseStatus, Role
from models.base import pk
from models.enterprise import Enterprise
from models.user import User
from services.oversight import audit


class NotOwner(Forbidden):
    code = "forbidden"
    message = "只有企业账号的所有者（注册账号或受让者）可以管理本企业的操作员账号"


def owned_enterprise(session: Session, owner: User, enterprise_id: int) -> Enterprise:
    """The caller's own enterprise, when the caller owns it: another enterprise does not exist
    for an operator (404); a colleague who is not the owner is 403; a registration not approved
    yet is 403 `enterprise_not_approved`."""
    if owner.enterprise_id != enterprise_id:
        raise NotFound("企业不存在")
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("企业不存在")
    if not owner.is_owner:
        raise NotOwner()
    if enterprise.status != EnterpriseStatus.APPROVED:
        raise EnterpriseNotApproved()
    return enterprise


def list_accounts(session: Session, enterprise: Enterprise) -> list[User]:
    return list(
        session.exec(
            select(User)
            .where(User.enterprise_id == pk(enterprise), User.role == Role.OPERATOR)
            .order_by(col(User.id))
        ).all()
    )


def get_account(
    session: Session, enterprise: Enterprise, user_id: int, *, for_update: bool = False
) -> User:
    user = session.get(User, user_id, with_for_update=for_update, populate_existing=for_update)
    if user is None or user.enterprise_id != pk(enterprise) or user.role != Role.OPERATOR:
        raise NotFound("用户不存在")
    return user


def _lock_users(session: Session, user_ids: set[int]) -> None:
    """Reloads and locks the accounts, in id order (no deadlock with a concurrent handover)."""
    for uid in sorted(user_ids):
        session.get(User, uid, with_for_update=True, populate_existing=True)


def create_account(
    session: Session,
    *,
    owner: User,
    enterprise_id: int,
    username: str,
    password_hash: str,
    display_name: str,
    email: str | None = None,
    mobile: str | None = None,
) -> User:
    """A new operator account, created by the owner as its row stands now (locked: an owner
    who just handed the role over is refused)."""
    _lock_users(session, {pk(owner)})
    enterprise = owned_enterprise(session, owner, enterprise_id)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise DuplicateUsername()
    user = User(
        username=username,
        password_hash=password_hash,
        role=Role.OPERATOR,
        jurisdiction=enterprise.region_code,
        display_name=display_name,
        enterprise_id=pk(enterprise),
        email=email,
        mobile=mobile,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor_id=owner.id,
        action="operator.create",
        entity="user",
        entity_id=user.id,
        data={"enterprise_id": enterprise.id},
        region_code=enterprise.region_code,
    )
    return user


def update_account(
    session: Session,
    *,
    owner: User,
    enterprise_id: int,
    user_id: int,
    active: bool | None = None,
    password_hash: str | None = None,
    is_owner: bool | None = None,
) -> User:
    """Deactivates or reactivates, resets the password (both end the account's tokens), or
    hands the owner role to the account (the caller stops being the owner in the same
    transaction). Both rows are locked and read again first."""
    _lock_users(session, {pk(owner), user_id})
    enterprise = owned_enterprise(session, owner, enterprise_id)
    user = get_account(session, enterprise, user_id)
    itself = user.id == owner.id
    if not owner.is_owner or owner.enterprise_id != enterprise.id:  # handed over meanwhile
        raise NotOwner()
    if itself and active is False:
        raise ValidationFailed.single(
            "active", "validation_error", "所有者不能停用自己的账号；请先把所有者身份移交给他人"
        )
    if itself and password_hash is not None:
        raise ValidationFailed.single(
            "password", "validation_error", "修改自己的密码请用 PATCH /auth/me（需要当前密码）"
        )
    if is_owner is False and not itself:
        raise ValidationFailed.single(
            "is_owner", "validation_error", "所有者身份只能移交：把另一个账号的 is_owner 设为 true"
        )
    if is_owner is False and itself:
        raise ValidationFailed.single(
            "is_owner", "validation_error", "所有者身份只能移交，不能放弃：请把它交给另一个账号"
        )
    becomes_active = user.active if active is None else active
    if is_owner and not itself and not becomes_active:
        raise ValidationFailed.single(
            "is_owner", "validation_error", "所有者身份只能移交给启用中的账号"
        )
    changes: dict[str, object] = {"enterprise_id": enterprise.id}
    if active is not None and active != user.active:
        changes["active"] = active
        if not active:
            user.token_version += 1
        user.active = active
    if password_hash is not None:
        user.password_hash = password_hash
        user.token_version += 1
        changes["password_reset"] = True
    if is_owner and not itself:
        # The old owner steps down first: one owner per enterprise holds after each statement.
        owner.is_owner = False
        session.add(owner)
        session.flush()
        user.is_owner = True
        changes["owner_from"] = owner.id
    session.add(user)
    session.flush()
    if len(changes) > 1:
        audit.append(
            session,
            actor_id=owner.id,
            action="operator.owner_transfer" if "owner_from" in changes else "operator.update",
            entity="user",
            entity_id=user.id,
            data=changes,
            region_code=enterprise.region_code,
        )
    return user
