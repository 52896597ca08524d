from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import (
    AnyUser,
    Applicant,
    ClientAddress,
    SessionDep,
    reads_first,
    run_between_transactions,
)
from api.problems import domain_problem
from core.db import begin_session
from core.security import create_access_token, hash_password
from domain.vocabulary import EnterpriseStatus
from models.base import pk
from models.user import User
from schemas.accounts import Me, MeUpdate, Token
from schemas.notifications import (
    PasswordResetAccepted,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from services.accounts import users as accounts
from services.notifications import password_reset

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


def _me(session: SessionDep, user: User) -> Me:
    found = Me.model_validate(user)
    status = accounts.enterprise_status(session, user)
    found.enterprise_status = EnterpriseStatus(status) if status is not None else None
    return found


@router.get("/me", response_model=Me)
def me(session: SessionDep, user: Applicant) -> Me:
    """The caller's own account (also the owner of a registration awaiting approval):
    `is_owner` and, for operators, `enterprise_status`."""
    return _me(session, user)


@router.patch("/me", response_model=Me)
@reads_first
def update_me(session: SessionDep, user: AnyUser, body: MeUpdate) -> Me | JSONResponse:
    """The caller's own `email` and `mobile` (null clears one) and password: a new `password`
    needs the `current_password` (422 otherwise; failures count like failed logins, 429 when
    locked) and ends every token of the account, this one too: log in again."""
    contacts = body.model_dump(include={"email", "mobile"}, exclude_unset=True)
    new_password, current = body.password, body.current_password
    if new_password is None:
        # Nothing slow to do: end the reading transaction and open the write one at once.
        session.commit()
        begin_session(session, for_write=True)
        result = accounts.update_self(session, user, contacts=contacts)
    else:
        result = accounts.change_password(
            session,
            user,
            current_password=current,
            new_password=new_password,
            outside_transaction=lambda work: run_between_transactions(session, work),
            contacts=contacts,
        )
    if isinstance(result, accounts.WrongCurrentPassword):
        return domain_problem(result)  # returned, not raised: the failure count is committed
    return _me(session, result)


PASSWORD_RESET_ACCEPTED = (
    "如该用户存在且登记了电子邮箱或手机号码，重置密码的链接已发出，30 分钟内有效。"
)


@router.post("/password-reset", status_code=202, response_model=PasswordResetAccepted)
def request_password_reset(
    session: SessionDep, body: PasswordResetRequest, client: ClientAddress
) -> PasswordResetAccepted:
    """Public. Sends a one-time link to the account's e-mail or mobile; the answer is the same
    whether or not the user exists (requests are limited per username and per client)."""
    password_reset.request_reset(session, username=body.username, client=client)
    return PasswordResetAccepted(detail=PASSWORD_RESET_ACCEPTED)


@router.post("/password-reset/confirm", status_code=204)
@reads_first
def confirm_password_reset(session: SessionDep, body: PasswordResetConfirm) -> Response:
    """Public. Sets a new password with a reset link's token (once; 422 `invalid_reset_token`
    when unknown, expired or used); every earlier login token stops working."""
    password_hash = run_between_transactions(session, lambda: hash_password(body.password))
    password_reset.confirm_reset(session, token=body.token, password_hash=password_hash)
    return Response(status_code=204)
