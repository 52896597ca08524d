"""Idempotency-Key on POST: the route runs its action through `Idempotent.respond`."""

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlmodel import Session

from domain.errors import field_error
from models.user import User
from schemas.common import ModelT, Written
from services import idempotency

MAX_KEY_LENGTH = 128


class Idempotent:
    def __init__(self, key: str | None, fingerprint: str) -> None:
        self.key = key
        self.fingerprint = fingerprint

    @classmethod
    def without_key(cls) -> "Idempotent":
        """For methods that are idempotent by nature (PATCH)."""
        return cls(None, "")

    def respond(
        self,
        session: Session,
        user: User,
        response: Response,
        action: Callable[[], Written[ModelT]],
        *,
        status_code: int = 200,
    ) -> ModelT | JSONResponse:
        """Runs `action` once per key: a retry with the same request gets the stored answer,
        headers (ETag, Location) included."""
        record = None
        if self.key is not None:
            assert user.id is not None
            try:
                record = idempotency.claim(
                    session, user_id=user.id, key=self.key, fingerprint=self.fingerprint
                )
            except idempotency.Replay as replay:
                return JSONResponse(
                    replay.body,
                    status_code=replay.status_code,
                    headers={**replay.headers, "Idempotent-Replayed": "true"},
                )
        written = action()
        response.headers.update(written.headers())
        if record is not None:
            idempotency.complete(
                session,
                record,
                status_code=status_code,
                body=jsonable_encoder(written.body),
                headers=written.headers(),
            )
        return written.body


async def idempotent(request: Request) -> Idempotent:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise field_error(
            "Idempotency-Key", "validation_error", "Idempotency-Key 长度应为 1–128 个字符"
        )
    body = await request.body() if key is not None else b""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), body):
        digest.update(part)
        digest.update(b"\x00")
    return Idempotent(key, digest.hexdigest())


IdempotencyDep = Annotated[Idempotent, Depends(idempotent)]
