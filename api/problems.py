"""Every error leaves as application/problem+json with a stable code and a Chinese message."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services import errors

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
}

# pydantic's own error types, in Chinese.
PYDANTIC_MESSAGES = {
    "missing": "必填字段",
    "string_too_short": "不能为空或过短",
    "string_too_long": "长度超出限制",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为字符串",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为布尔值",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "list_type": "应为数组",
    "too_short": "至少需要一项",
    "too_long": "项数过多",
    "json_invalid": "JSON 格式错误",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值不正确",
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


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors as `errors: [{field, code, message}]`.

    Our own rules raise PydanticCustomError with a domain code (`invalid_uscc`, …) and a Chinese
    message; pydantic's generic ones keep their type as code and get a Chinese message here. The
    first domain code, if any, becomes the problem's code so a client can branch on it.
    """
    items = []
    for error in exc.errors():
        kind = error.get("type", "value_error")
        if kind in errors.FIELD_CODES:
            items.append(errors.FieldError(_field_path(error["loc"]), kind, error["msg"]))
        else:
            message = PYDANTIC_MESSAGES.get(kind, "取值不正确")
            items.append(errors.FieldError(_field_path(error.get("loc", ())), kind, message))
    first_domain = next((item for item in items if item.code in errors.FIELD_CODES), None)
    code = first_domain.code if first_domain else "validation_error"
    detail = first_domain.message if first_domain else "输入数据校验未通过"
    return problem(422, code, detail, errors=[item.as_dict() for item in items])


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(_request: Request, exc: errors.DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return problem(
            exc.status_code,
            code,
            detail or STATUS_TITLES.get(exc.status_code, "错误"),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return problem(500, "internal_error", "服务器内部错误，请稍后重试")
