"""Logging, configured once (LOG_LEVEL, LOG_FORMAT = console | json; SPEC §8).

Every line carries the request id of the request it belongs to (`-` outside requests); the same id
is answered in `X-Request-ID`. State changes are logged with ids only, never personal data.
"""

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str] = ContextVar("request_id", default="-")

# A caller's own X-Request-ID is kept when it is a plain token, so logs can be joined across
# a proxy; anything else (too long, odd characters) is replaced by our own.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id(offered: str | None) -> str:
    if offered and _ACCEPTABLE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


# A secret in a query string (a password-reset link's `?token=`) never reaches the logs.
_SECRET_IN_QUERY = re.compile(r"([?&][^=&#\s]*token=)[^&#\s]*", re.IGNORECASE)
ACCESS_LOGGER = "uvicorn.access"


def redact_query_secrets(text: str) -> str:
    """`/reset-password?token=abc&x=1` -> `/reset-password?token=***&x=1`."""
    return _SECRET_IN_QUERY.sub(r"\1***", text)


class RedactQuerySecrets(logging.Filter):
    """Blanks `token=` values in uvicorn's access lines, whose args are (client, method,
    path with its query, HTTP version, status). Defence in depth: the reset page already moves
    its token out of the URL at once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
            record.args = tuple(
                redact_query_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _ServiceHandler(logging.StreamHandler):
    """Our handler on the root logger (a class of its own, so configuring twice replaces it)."""


def configure(level: str = "INFO", log_format: str = "console") -> None:
    handler = _ServiceHandler()
    handler.addFilter(_RequestIdFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(CONSOLE_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    access = logging.getLogger(ACCESS_LOGGER)  # its own handlers too, when uvicorn adds them
    if not any(isinstance(f, RedactQuerySecrets) for f in access.filters):
        access.addFilter(RedactQuerySecrets())
    handler.addFilter(RedactQuerySecrets())
    for chatty in ("httpx", "httpcore"):  # a line per outgoing request: our own tests and tools
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
