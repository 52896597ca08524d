"""Request dependencies: the per-request transaction, the caller, and who may call what."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from domain.errors import EnterpriseNotApproved, Forbidden, NotAuthenticated
from domain.vocabulary import Role
from models.user import User
from services.accounts import enterprises
from services.accounts.users import user_for_token
from web.deps import (  # the pages share these; re-exported for the routes
    ClientAddress,
    SessionDep,
    get_session,
    reads_first,
    run_between_transactions,
)

__all__ = ["ClientAddress", "SessionDep", "get_session", "reads_first", "run_between_transactions"]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_current_user(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The caller. A token dies with its user's deactivation or password change (its version
    is then behind the user's); a malformed or out-of-range subject is a 401 like any other."""
    user = user_for_token(session, token)
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


class RequireRoles:
    """A dependency that lets only the given roles through; `roles` documents them in OpenAPI.

    An operator whose enterprise is not approved (pending or rejected: its owner may log in to
    see, correct and resubmit the registration, SPEC §1) gets 403 `enterprise_not_approved`,
    except where `unapproved=True` (its own account and enterprise)."""

    def __init__(self, *roles: str, unapproved: bool = False) -> None:
        self.roles: tuple[str, ...] = roles
        self.unapproved = unapproved

    def __call__(self, session: SessionDep, user: CurrentUser) -> User:
        if user.role not in self.roles:
            raise Forbidden()
        if not self.unapproved and not enterprises.is_approved(session, user):
            raise EnterpriseNotApproved()
        return user


Operator = Annotated[User, Depends(RequireRoles(Role.OPERATOR))]
Reviewer = Annotated[User, Depends(RequireRoles(Role.REVIEWER, Role.ADMIN))]
Admin = Annotated[User, Depends(RequireRoles(Role.ADMIN))]
Inspector = Annotated[User, Depends(RequireRoles(Role.INSPECTOR))]
Staff = Annotated[User, Depends(RequireRoles(Role.REVIEWER, Role.ADMIN, Role.INSPECTOR))]
AnyUser = Annotated[User, Depends(RequireRoles(*Role))]
# Also an operator whose enterprise awaits approval or was rejected (its account, its enterprise).
Applicant = Annotated[User, Depends(RequireRoles(*Role, unapproved=True))]
