"""One error type per domain failure. `api/` maps them to problem+json; services never see HTTP."""

from dataclasses import dataclass, field
from typing import Any

# Codes a single field can carry, beyond pydantic's generic ones.
FIELD_CODES = frozenset(
    {
        "validation_error",
        "invalid_uscc",
        "invalid_id_number",
        "invalid_phone",
        "unknown_region",
        "region_mismatch",
        "unknown_brand",
        "future_date",
        "partner_required",
        "missing_documents",
    }
)


@dataclass
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class DomainError(Exception):
    code: str = "domain_error"
    message: str = "请求无法处理"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        self.extra = extra
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    message = "记录不存在"


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    message = "未登录或登录已失效"


class Forbidden(DomainError):
    code = "forbidden"
    message = "无权执行此操作"


class RateLimited(DomainError):
    code = "rate_limited"
    message = "尝试次数过多，请稍后再试"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Conflict(DomainError):
    code = "conflict"
    message = "与现有记录冲突"


class DuplicateUscc(Conflict):
    code = "duplicate_uscc"
    message = "该统一社会信用代码已登记"


class DuplicateUsername(Conflict):
    code = "duplicate_username"
    message = "用户名已被使用"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "当前状态下不能执行该操作"


class VersionConflict(DomainError):
    code = "version_conflict"
    message = "记录已被他人修改，请刷新后重试"


@dataclass
class ValidationFailed(DomainError):
    """One or more input fields break a domain rule; every problem is listed at once."""

    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        first = self.errors[0] if self.errors else None
        self.code = first.code if first else "validation_error"
        self.message = first.message if first else "输入数据校验未通过"
        self.extra = {}
        Exception.__init__(self, self.message)


def field_error(field_name: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field_name, code, message)])
