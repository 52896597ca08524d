"""Request bodies are bounded before anything holds them in memory (SPEC §8 `MAX_JSON_BYTES`).

A plain ASGI middleware (not BaseHTTPMiddleware, which would buffer and slow the hot path):
- a declared `Content-Length` over the limit is answered 413 `payload_too_large` at once, and
  the application never runs;
- a body without one (chunked) is counted as it streams in: the read that passes the limit
  fails with the same 413, so at most one chunk past the limit is ever received.

Multipart uploads are checked byte by byte by `web.uploads` against `MAX_UPLOAD_BYTES`; here a
multipart body only meets a backstop above that (the file plus a JSON body's worth of other
parts), so a multipart body sent to a route that is not an upload cannot be held whole either.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from domain.documents import size_text

MULTIPART = b"multipart/form-data"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit; answered as a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"请求体过大（上限 {size_text(limit)}）")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_multipart_bytes = max_upload_bytes + max_json_bytes

    def _limit_for(self, content_type: bytes) -> int:
        if content_type.lstrip().lower().startswith(MULTIPART):
            return self.max_multipart_bytes
        return self.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = b""
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = int(value) if value.strip().isdigit() else None
        limit = self._limit_for(content_type)
        if declared is not None and declared > limit:
            error = BodyTooLarge(limit)
            await problem(413, "payload_too_large", str(error.detail))(scope, receive, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as error:
            # Raised where no exception handler answered it (e.g. outside a route).
            if started:
                raise
            await problem(413, "payload_too_large", str(error.detail))(scope, receive, send)
