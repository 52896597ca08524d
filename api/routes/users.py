from fastapi import APIRouter, status

from api.deps import Admin, SessionDep, run_between_transactions
from core.security import hash_password
from domain.errors import Forbidden
from schemas.accounts import UserCreate, UserPublic, UserUpdate
from schemas.common import Id
from services.accounts import users as accounts
from services.reference import regions

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[UserPublic])
def list_users(session: SessionDep, admin: Admin) -> list[UserPublic]:
    """Staff accounts inside the admin's jurisdiction."""
    return [
        UserPublic.model_validate(u)
        for u in accounts.list_users(session, within=admin.jurisdiction)
    ]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(session: SessionDep, admin: Admin, body: UserCreate) -> UserPublic:
    """Create a staff account (reviewer, inspector, admin) inside the admin's jurisdiction."""
    if not regions.covers(admin.jurisdiction, body.jurisdiction):
        raise Forbidden("不能在本辖区以外创建用户")
    # Hash first, with no transaction open (Argon2 is slow), then write.
    password_hash = run_between_transactions(session, lambda: hash_password(body.password))
    user = accounts.create_user(
        session, **body.model_dump(exclude={"password"}), password_hash=password_hash, actor=admin
    )
    return UserPublic.model_validate(user)


@router.get("/{user_id}", response_model=UserPublic)
def get_user(session: SessionDep, admin: Admin, user_id: Id) -> UserPublic:
    return UserPublic.model_validate(
        accounts.get_user_within(session, user_id, within=admin.jurisdiction)
    )


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(session: SessionDep, admin: Admin, user_id: Id, body: UserUpdate) -> UserPublic:
    """A staff account inside the admin's jurisdiction (an operator account is a 404). A new
    password or a deactivation ends every token the user holds."""
    user = accounts.get_user_within(session, user_id, within=admin.jurisdiction)
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    if body.password is not None:
        password = body.password
        # Hash first, with no transaction open (Argon2 is slow), then write to a reloaded row.
        changes["password_hash"] = run_between_transactions(
            session, lambda: hash_password(password)
        )
        user = accounts.get_user_within(
            session, user_id, within=admin.jurisdiction, for_update=True
        )
    accounts.update_user(
        session, user, manager_jurisdiction=admin.jurisdiction, actor=admin, **changes
    )
    return UserPublic.model_validate(user)
