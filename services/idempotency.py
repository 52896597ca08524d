"""Idempotency-Key for POST: a retry gets the first response; another body with the key is 422.

The key is claimed (inserted) before the action runs, in the action's own transaction: a
concurrent retry waits on the key's unique index and then replays the committed answer.
"""

import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from domain.errors import IdempotencyKeyReused
from models.idempotency import IdempotencyRecord


class Replay(Exception):
    """The request was answered before; `status_code`, `body` and `headers` are that answer."""

    def __init__(self, status_code: int, body: Any, headers: dict[str, str]) -> None:
        super().__init__("replay")
        self.status_code = status_code
        self.body = body
        self.headers = headers


def _replay_or_raise(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.status_code is not None:
        raise Replay(
            record.status_code,
            json.loads(record.response_body or "null"),
            json.loads(record.response_headers or "{}"),
        )


def claim(session: Session, *, user_id: int, key: str, fingerprint: str) -> IdempotencyRecord:
    """Claims the key for this request; raises Replay or IdempotencyKeyReused for a used one."""
    existing = session.get(IdempotencyRecord, (user_id, key))
    if existing is not None:
        _replay_or_raise(existing, fingerprint)
    record = IdempotencyRecord(user_id=user_id, key=key, fingerprint=fingerprint)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # Another request with this key committed while we waited on its unique index.
        existing = session.get(IdempotencyRecord, (user_id, key), populate_existing=True)
        if existing is None:
            raise
        _replay_or_raise(existing, fingerprint)
    return record


def complete(
    session: Session,
    record: IdempotencyRecord,
    *,
    status_code: int,
    body: Any,
    headers: dict[str, str],
) -> None:
    record.status_code = status_code
    record.response_body = json.dumps(body, ensure_ascii=False)
    record.response_headers = json.dumps(headers)
    session.add(record)
    session.flush()
