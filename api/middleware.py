"""Request ids: every response carries `X-Request-ID`, and every log line of the request too.

A plain ASGI middleware (not BaseHTTPMiddleware): the public receipt check is a hot path.
"""

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from core import logs

HEADER = "X-Request-ID"
logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        current = logs.new_request_id(offered)
        token = logs.request_id.set(current)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[HEADER] = current
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, while the request id is known, and answered here, so a 500 carries
            # X-Request-ID too: the id a caller reports finds the traceback.
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if started:
                raise
            answer = problem(500, "internal_error", "服务器内部错误，请稍后重试")
            await answer(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


# Pages and /docs load nothing from elsewhere and run no inline script; our own pages may frame
# our own PDFs (frame-ancestors 'self').
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'self'; frame-src 'self'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class SecurityHeadersMiddleware:
    """`nosniff` and a referrer policy on every response; a content security policy on HTML
    (pages, /docs) and on files, which also keeps other sites from framing them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                if not headers.get("content-type", "").startswith("application/json"):
                    headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)
