from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AnyUser, ClientAddress, SessionDep, reads_first, run_between_transactions
from api.problems import domain_problem
from core.security import create_access_token
from models.base import pk
from schemas.accounts import Token, UserPublic
from services.accounts import users as accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
@reads_first
def login(
    session: SessionDep,
    address: ClientAddress,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token | JSONResponse:
    """OAuth2 password flow. Public. Repeated failures lock the username, and the client
    address, for a while (429 with Retry-After)."""
    # Read (no write lock), check the password with no transaction open (Argon2 is slow), then
    # a short write transaction for the failure count.
    attempt = accounts.start_login(session, username=form.username, address=address)
    matched = run_between_transactions(
        session, lambda: accounts.password_matches(attempt, form.password)
    )
    user = accounts.finish_login(session, attempt, matched=matched)
    if user is None:
        # Returned, not raised: the failure count must be committed with this request.
        return domain_problem(accounts.LoginFailed())
    return Token(access_token=create_access_token(pk(user), user.token_version))


@router.get("/me", response_model=UserPublic)
def me(user: AnyUser) -> UserPublic:
    """The caller's own account."""
    return UserPublic.model_validate(user)
