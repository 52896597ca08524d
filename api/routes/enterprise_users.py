"""An enterprise's operator accounts, managed by its owner (SPEC §1, §4.1).

Only operators call these (staff: 403 `forbidden`; the administration never sets an operator's
password); another enterprise's id is a 404; a colleague who is not the owner is a 403.
"""

from fastapi import APIRouter, status

from api.deps import Operator, SessionDep, run_between_transactions
from core.security import hash_password
from schemas.accounts import OperatorAccountCreate, OperatorAccountUpdate, UserPublic
from schemas.common import Id
from services.accounts import operators

router = APIRouter(prefix="/enterprises/{enterprise_id}/users", tags=["enterprises"])


@router.get("", response_model=list[UserPublic])
def list_accounts(session: SessionDep, owner: Operator, enterprise_id: Id) -> list[UserPublic]:
    """The enterprise's operator accounts (owner only)."""
    enterprise = operators.owned_enterprise(session, owner, enterprise_id)
    return [UserPublic.model_validate(u) for u in operators.list_accounts(session, enterprise)]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_account(
    session: SessionDep, owner: Operator, enterprise_id: Id, body: OperatorAccountCreate
) -> UserPublic:
    """A new operator account of the enterprise (owner only)."""
    operators.owned_enterprise(session, owner, enterprise_id)
    # Hash with no transaction open (Argon2 is slow); the service locks, checks again, writes.
    password_hash = run_between_transactions(session, lambda: hash_password(body.password))
    user = operators.create_account(
        session,
        owner=owner,
        enterprise_id=enterprise_id,
        password_hash=password_hash,
        **body.model_dump(exclude={"password"}),
    )
    return UserPublic.model_validate(user)


@router.patch("/{user_id}", response_model=UserPublic)
def update_account(
    session: SessionDep,
    owner: Operator,
    enterprise_id: Id,
    user_id: Id,
    body: OperatorAccountUpdate,
) -> UserPublic:
    """`active`, `password` (each ends the account's tokens) or `is_owner: true` (hands the
    owner role to this active account; the caller stops being the owner). The owner cannot
    deactivate itself, and changes its own password with PATCH /auth/me."""
    enterprise = operators.owned_enterprise(session, owner, enterprise_id)
    operators.get_account(session, enterprise, user_id)
    password_hash = None
    if body.password is not None:
        password = body.password
        password_hash = run_between_transactions(session, lambda: hash_password(password))
    user = operators.update_account(
        session,
        owner=owner,
        enterprise_id=enterprise_id,
        user_id=user_id,
        active=body.active,
        password_hash=password_hash,
        is_owner=body.is_owner,
    )
    return UserPublic.model_validate(user)
