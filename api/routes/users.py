from fastapi import APIRouter, status

from api.deps import Admin, SessionDep
from domain.errors import Forbidden
from schemas.accounts import UserCreate, UserPublic, UserUpdate
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
    user = accounts.create_user(session, **body.model_dump())
    return UserPublic.model_validate(user)


@router.get("/{user_id}", response_model=UserPublic)
def get_user(session: SessionDep, admin: Admin, user_id: int) -> UserPublic:
    return UserPublic.model_validate(
        accounts.get_user_within(session, user_id, within=admin.jurisdiction)
    )


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(session: SessionDep, admin: Admin, user_id: int, body: UserUpdate) -> UserPublic:
    user = accounts.get_user_within(session, user_id, within=admin.jurisdiction)
    accounts.update_user(
        session,
        user,
        manager_jurisdiction=admin.jurisdiction,
        **body.model_dump(exclude_unset=True),
    )
    return UserPublic.model_validate(user)
