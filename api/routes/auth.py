from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AnyUser, SessionDep
from api.problems import domain_problem
from core.security import create_access_token
from models.base import pk
from schemas.accounts import Token, UserPublic
from services.accounts import users as accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(
    session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token | JSONResponse:
    """OAuth2 password flow. Public. Repeated failures lock the user for a while (429)."""
    user = accounts.authenticate(session, username=form.username, password=form.password)
    if user is None:
        # Returned, not raised: the failure counter must be committed with this request.
        return domain_problem(accounts.LoginFailed())
    return Token(access_token=create_access_token(pk(user)))


@router.get("/me", response_model=UserPublic)
def me(user: AnyUser) -> UserPublic:
    """The caller's own account."""
    return UserPublic.model_validate(user)
