"""Receipt checks for the public hot path: answers cached in each worker, and dropped the moment
any filing's state may have changed, in every worker.

How a worker learns of a change:
- SQLite: `PRAGMA data_version` on the reader's own connection changes whenever another
  connection (any worker, any process) commits. It is read on every request: microseconds.
- PostgreSQL: the service sends `NOTIFY receipt_changed` in the same transaction as every
  acceptance, closure, revocation and lapse; a listener thread in each worker hears it when the
  transaction commits. While the listener is not connected, nothing is served from the cache.

A cached answer carries the generation it was read under; it is served only while the
generation is unchanged, so a read racing a commit can never be cached as current.

Memory is bounded: a malformed receipt number is answered "not found" before any cache or
database sees it, and well-formed unknown numbers go to a small LRU of their own (about 220
bytes each), so a flood of them can neither grow a worker nor push real receipts out.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any

import anyio.to_thread
import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from core.db import get_engine
from services.receipts import issuing

logger = logging.getLogger(__name__)

CHANNEL = "receipt_changed"
_MISSING = object()


FOUND_ENTRIES = 100_000  # answers for real receipts: about 500 bytes each, plus the shared payload
MISSING_ENTRIES = 10_000  # well-formed numbers that do not exist: about 220 bytes each


class GenerationCache:
    """An LRU of answers, each valid only for the generation it was read under."""

    def __init__(self, size: int = FOUND_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._size = size

    def get(self, key: str, generation: int) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation:
            return _MISSING
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, generation: int, value: Any) -> None:
        self._entries[key] = (generation, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class AnswerCache:
    """Found receipts and unknown numbers in separate LRUs: unknown ones cannot evict found."""

    def __init__(self, found: int = FOUND_ENTRIES, missing: int = MISSING_ENTRIES) -> None:
        self.found = GenerationCache(found)
        self.missing = GenerationCache(missing)

    def get(self, key: str, generation: int) -> Any:
        value = self.found.get(key, generation)
        if value is _MISSING:
            value = self.missing.get(key, generation)
        return value

    def put(self, key: str, generation: int, value: Any) -> None:
        (self.missing if value is None else self.found).put(key, generation, value)


class PublicReader:
    """Uncached lookups (used by the tests, inside their rolled-back transaction)."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Any]], paramstyle: str) -> None:
        self._connect = connect
        self._receipt_sql = issuing.status_sql(paramstyle)

    def _lookup(self, receipt_no: str) -> issuing.ReceiptCheck | None:
        with self._connect() as dbapi_connection:
            return issuing.check(dbapi_connection, self._receipt_sql, receipt_no)

    async def receipt(self, receipt_no: str) -> issuing.ReceiptCheck | None:
        if not issuing.well_formed(receipt_no):
            return None
        return self._lookup(receipt_no)


class SqliteReader(PublicReader):
    """One connection kept for the event loop: a lookup costs less than a thread hop."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Any = None
        self._cache = AnswerCache()
        super().__init__(self._own_connection, engine.dialect.paramstyle)

    @contextmanager
    def _own_connection(self) -> Iterator[Any]:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        yield self._connection

    def _generation(self) -> int:
        with self._own_connection() as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA data_version")
            (version,) = cursor.fetchone()
            cursor.close()
            return int(version)

    async def receipt(self, receipt_no: str) -> issuing.ReceiptCheck | None:
        if not issuing.well_formed(receipt_no):
            return None
        generation = self._generation()
        found = self._cache.get(receipt_no, generation)
        if found is _MISSING:
            found = self._lookup(receipt_no)
            self._cache.put(receipt_no, generation, found)
        return found


class PostgresReader(PublicReader):
    """Lookups in worker threads over the pool; a LISTEN thread bumps the generation."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(self._pooled, engine.dialect.paramstyle)
        self._engine = engine
        self._cache = AnswerCache()
        self.generation = 0
        self.listening = False
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        threading.Thread(target=self._listen, name="receipt-listener", daemon=True).start()

    @contextmanager
    def _pooled(self) -> Iterator[Any]:
        connection = self._engine.raw_connection()
        try:
            yield connection
        finally:
            connection.close()  # back to the pool, which rolls back the read

    def _listen(self) -> None:
        while True:
            try:
                with psycopg.connect(self._dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.generation += 1  # whatever happened while not listening
                    self.listening = True
                    for _ in connection.notifies():
                        self.generation += 1
            except Exception:
                # Keep serving (uncached) and reconnect; say why, since the cache is off meanwhile.
                logger.warning("receipt listener lost its connection; retrying", exc_info=True)
            self.listening = False
            self.generation += 1
            time.sleep(1)

    async def receipt(self, receipt_no: str) -> issuing.ReceiptCheck | None:
        if not issuing.well_formed(receipt_no):
            return None
        if not self.listening:
            return await anyio.to_thread.run_sync(self._lookup, receipt_no)
        generation = self.generation
        found = self._cache.get(receipt_no, generation)
        if found is _MISSING:
            found = await anyio.to_thread.run_sync(self._lookup, receipt_no)
            self._cache.put(receipt_no, generation, found)
        return found


_local_readers: list[PostgresReader] = []


@event.listens_for(Session, "after_commit")
def _bump_local_generation(session: Session) -> None:
    """This worker's own changes invalidate its cache at once, without waiting for the NOTIFY
    to come back (other workers hear the NOTIFY within milliseconds of the commit)."""
    if session.info.pop("receipts_changed", False):
        for reader in _local_readers:
            reader.generation += 1


def reader_for(engine: Engine) -> PublicReader:
    if engine.dialect.name == "sqlite":
        return SqliteReader(engine)
    reader = PostgresReader(engine)
    _local_readers.append(reader)
    return reader


@lru_cache
def shared_reader() -> PublicReader:
    """This worker's reader (one per process, over the app's engine)."""
    return reader_for(get_engine())
