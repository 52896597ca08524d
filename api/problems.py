"""Every error leaves as application/problem+json with a stable code and a Chinese message."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import documents, errors
from schemas.common import Problem
from web.errors import error_page, is_page, page_for_error
from web.session import PageError
from web.templating import templates

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_TITLES = {
    400: "请求有误",
    401: "未认证",
    403: "禁止访问",
    404: "未找到",
    405: "方法不允许",
    409: "冲突",
    412: "前提条件不满足",
    413: "文件过大",
    415: "不支持的文件类型",
    422: "数据校验未通过",
    428: "缺少前提条件",
    429: "请求过于频繁",
    500: "服务器内部错误",
}

STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}

# The first class in an error's MRO found here decides the HTTP status.
ERROR_STATUS: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.RateLimited: 429,
    errors.Conflict: 409,
    errors.VersionConflict: 412,
    errors.ValidationFailed: 422,
    errors.IdempotencyKeyReused: 422,
    documents.UnsupportedMediaType: 415,
    documents.PayloadTooLarge: 413,
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": STATUS_TITLES.get(status, "错误"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def status_for(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 400


def domain_problem(error: errors.DomainError) -> JSONResponse:
    status = status_for(error)
    headers: dict[str, str] = {}
    extra = dict(error.extra)
    if isinstance(error, errors.RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, errors.NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, errors.ValidationFailed):
        extra["errors"] = [item.as_dict() for item in error.errors]
    return problem(status, error.code, error.message, headers=headers or None, **extra)


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors as `errors: [{field, code, message}]` (see from_pydantic)."""
    return domain_problem(errors.ValidationFailed(errors.from_pydantic(exc.errors())))


def install(app: FastAPI) -> None:
    """problem+json for the API; on pages, a page (web.errors)."""

    @app.exception_handler(PageError)
    async def _page(request: Request, exc: PageError) -> Response:
        return page_for_error(templates, request, exc, exc.status_code)

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> Response:
        if is_page(request):
            return page_for_error(templates, request, exc, status_for(exc))
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if is_page(request):
            return error_page(templates, request, 400, "请求有误", "请求的参数有误。")
        return validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request) and exc.status_code in (404, 405):
            title = STATUS_TITLES.get(exc.status_code, "错误")
            return error_page(templates, request, exc.status_code, title, "页面不存在。")
        code = STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return problem(
            exc.status_code,
            code,
            detail or STATUS_TITLES.get(exc.status_code, "错误"),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        if is_page(request):
            return page_for_error(templates, request, exc)
        return problem(500, "internal_error", "服务器内部错误，请稍后重试")


# --- the problems in the OpenAPI document ---------------------------------------------------

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WRITES = frozenset({"post", "put", "patch", "delete"})


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses an operation can answer, from what it takes and who may call it."""
    found = {422} if operation.get("parameters") or "requestBody" in operation else set()
    public = operation.get("x-roles", ["public"]) == ["public"]
    if not public:
        found |= {401, 403}
    if "{" in path or method in WRITES:
        found.add(404)
    if method in WRITES:
        found.add(409)
    if "requestBody" in operation:
        found |= {400, 413}
        if "multipart/form-data" in operation["requestBody"].get("content", {}):
            found.add(415)
    headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    if "if-match" in headers:
        found |= {412, 428}
    if public and method in WRITES:
        found |= {401, 429}  # a wrong password or token; anonymous writes are throttled
    return found


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Documents every operation's problem responses (and replaces FastAPI's own 422 shape).

    An HTML page's "not found" is a page too."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            success: dict[str, Any] = next(
                (r for s, r in responses.items() if s.startswith("2")), {}
            )
            page = "text/html" in success.get("content", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]  # FastAPI's shape, not ours
            for status in sorted(_statuses(path, method, operation)):
                content = (
                    {"text/html": {}}
                    if page and status == 404
                    else {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
                )
                responses.setdefault(
                    str(status),
                    {"description": STATUS_TITLES.get(status, "错误"), "content": content},
                )
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
