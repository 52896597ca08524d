"""Dependencies the pages share with the API, which imports them from here (pages sit below it)."""

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session

from core.config import get_settings
from core.db import begin_session, session_scope
from core.security import client_address
from services.receipts.public_cache import PublicReader, shared_reader

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

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


async def public_reader() -> PublicReader:
    """The worker's receipt reader. A plain (non-generator) coroutine: FastAPI needs no exit
    stack for it, which matters on the public hot path."""
    return shared_reader()


PublicReaderDep = Annotated[PublicReader, Depends(public_reader)]


def get_client_address(request: Request) -> str:
    """The client: the socket peer, or behind a proxy in TRUSTED_PROXIES the right-most address
    of X-Forwarded-For that is not a trusted proxy."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        get_settings().trusted_proxy_networks,
    )


ClientAddress = Annotated[str, Depends(get_client_address)]
