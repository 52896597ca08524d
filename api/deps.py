"""Request dependencies: the per-request transaction, the caller, and who may call what."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from core.db import session_scope
from core.security import decode_access_token
from domain.errors import Forbidden, NotAuthenticated
from domain.vocabulary import Role
from models.user import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed after the handler returns, before the response.

    Services flush, never commit. An exception rolls everything back.
    """
    with session_scope(for_write=request.method not in SAFE_METHODS) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit
# is reported to the client instead of being lost after a 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    user_id = decode_access_token(token) if token else None
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


class RequireRoles:
    """A dependency that lets only the given roles through; `roles` documents them in OpenAPI."""

    def __init__(self, *roles: str) -> None:
        self.roles: tuple[str, ...] = roles

    def __call__(self, user: CurrentUser) -> User:
        if user.role not in self.roles:
            raise Forbidden()
        return user


Operator = Annotated[User, Depends(RequireRoles(Role.OPERATOR))]
Reviewer = Annotated[User, Depends(RequireRoles(Role.REVIEWER, Role.ADMIN))]
Admin = Annotated[User, Depends(RequireRoles(Role.ADMIN))]
Inspector = Annotated[User, Depends(RequireRoles(Role.INSPECTOR))]
Staff = Annotated[User, Depends(RequireRoles(Role.REVIEWER, Role.ADMIN, Role.INSPECTOR))]
AnyUser = Annotated[User, Depends(RequireRoles(*Role))]
