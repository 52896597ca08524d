"""Request dependencies: the per-request transaction, the caller, and who may call what."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from core.db import begin_session, get_engine
from core.security import decode_access_token
from models.user import User
from services import receipts
from services.errors import Forbidden, NotAuthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed after the handler returns, before the response.

    Services flush, never commit. An exception rolls everything back.
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        begin_session(session, for_write=request.method not in SAFE_METHODS)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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


def require_roles(*allowed: str) -> Callable[[User], User]:
    """A dependency that lets only the given roles through (documented in OpenAPI)."""

    def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden()
        return user

    dependency.roles = allowed  # type: ignore[attr-defined]
    return dependency


Operator = Annotated[User, Depends(require_roles("operator"))]
Reviewer = Annotated[User, Depends(require_roles("reviewer", "admin"))]
Admin = Annotated[User, Depends(require_roles("admin"))]
Inspector = Annotated[User, Depends(require_roles("inspector"))]
Staff = Annotated[User, Depends(require_roles("reviewer", "admin", "inspector"))]
AnyUser = Annotated[User, Depends(require_roles("operator", "reviewer", "inspector", "admin"))]


class PublicReader:
    """Read-only lookups for the public hot paths, on the event loop with a pooled DBAPI
    connection: a single indexed query takes microseconds, less than a hop to a worker thread
    and less than SQLAlchemy's statement handling around it."""

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[Any]],
        paramstyle: str,
        *,
        on_event_loop: bool,
    ) -> None:
        self._connect = connect
        self._receipt_sql = receipts.status_sql(paramstyle)
        self._on_event_loop = on_event_loop

    def _receipt(self, receipt_no: str) -> receipts.ReceiptCheck | None:
        with self._connect() as dbapi_connection:
            return receipts.check(dbapi_connection, self._receipt_sql, receipt_no)

    async def receipt(self, receipt_no: str) -> receipts.ReceiptCheck | None:
        # SQLite answers in microseconds from memory: a thread hop would cost more than the
        # query. A server database answers over the network: wait for it in a worker thread so
        # the event loop keeps serving other requests meanwhile.
        if self._on_event_loop:
            return self._receipt(receipt_no)
        return await run_in_threadpool(self._receipt, receipt_no)


@contextmanager
def _pooled_dbapi_connection() -> Iterator[Any]:
    connection = get_engine().raw_connection()
    try:
        yield connection
    finally:
        connection.close()  # back to the pool, which rolls back any open transaction


@lru_cache
def _public_reader() -> PublicReader:
    engine = get_engine()
    return PublicReader(
        _pooled_dbapi_connection,
        engine.dialect.paramstyle,
        on_event_loop=engine.dialect.name == "sqlite",
    )


async def public_reader() -> PublicReader:
    # A plain (non-generator) dependency: FastAPI needs no exit stack for it, which matters here.
    return _public_reader()


PublicReaderDep = Annotated[PublicReader, Depends(public_reader)]
