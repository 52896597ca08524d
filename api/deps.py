"""Request dependencies: the per-request transaction, the caller, and who may call what."""

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from core.config import get_settings
from core.db import begin_session, session_scope
from core.security import client_address, decode_access_token
from domain.errors import EnterpriseNotApproved, Forbidden, NotAuthenticated
from domain.vocabulary import EnterpriseStatus, Role
from models.enterprise import Enterprise
from models.user import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

T = TypeVar("T")
EndpointT = TypeVar("EndpointT", bound=Callable[..., object])
_READS_FIRST = "_reads_first"


def reads_first(endpoint: EndpointT) -> EndpointT:
    """Marks a writing endpoint whose transaction starts as a reader (on SQLite: no write lock),
    because it does slow work before it writes; it opens its write transaction itself with
    `run_between_transactions`. Put it under the route decorator."""
    setattr(endpoint, _READS_FIRST, True)
    return endpoint


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed after the handler returns, before the response.

    Services flush, never commit. An exception rolls everything back.
    """
    for_write = request.method not in SAFE_METHODS and not getattr(
        request.scope.get("endpoint"), _READS_FIRST, False
    )
    with session_scope(for_write=for_write) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit
# is reported to the client instead of being lost after a 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def run_between_transactions(session: Session, work: Callable[[], T]) -> T:
    """Commits what the request has done so far, runs `work` (slow, CPU only: password hashing)
    with no transaction open, so no lock is held meanwhile, then begins a write transaction
    (SQLite: BEGIN IMMEDIATE) for the rest of the request.

    Objects already loaded stay usable; reload (`populate_existing`) what must be current.
    """
    session.commit()
    try:
        return work()
    finally:
        begin_session(session, for_write=True)


def get_client_address(request: Request) -> str:
    """The client: the socket peer, or behind a proxy in TRUSTED_PROXIES the right-most address
    of X-Forwarded-For that is not a trusted proxy."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        get_settings().trusted_proxy_networks,
    )


ClientAddress = Annotated[str, Depends(get_client_address)]


def get_current_user(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The caller. A token dies with its user's deactivation or password change (its version
    is then behind the user's); a malformed or out-of-range subject is a 401 like any other."""
    claims = decode_access_token(token) if token else None
    user = session.get(User, claims.user_id) if claims is not None else None
    if (
        claims is None
        or user is None
        or not user.active
        or user.token_version != claims.token_version
    ):
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
        if user.enterprise_id is not None and not self.unapproved:
            enterprise = session.get(Enterprise, user.enterprise_id)
            if enterprise is None or enterprise.status != EnterpriseStatus.APPROVED:
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
