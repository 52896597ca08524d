"""One error type per domain failure. `api/` maps them to problem+json; services never see HTTP."""

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from domain.vocabulary import DocumentKind, SamplingMode

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
        "outside_licence_scope",
    }
)


@dataclass
class FieldError:
    field: str
    code: str
    message: str
    allowed: list[Any] | None = None  # the fixed set a value must come from, when there is one

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.allowed is not None:
            found["allowed"] = list(self.allowed)
        return found


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


class OutsideJurisdiction(Forbidden):
    """The caller may see the record, but the action would reach outside its jurisdiction (403)."""

    code = "outside_jurisdiction"
    message = "该操作超出本辖区范围"


class RateLimited(DomainError):
    code = "rate_limited"
    message = "尝试次数过多，请稍后再试"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Conflict(DomainError):
    code = "conflict"
    message = "与现有记录冲突"


class NotEnoughInspectors(Conflict):
    code = "not_enough_inspectors"
    message = "可回避后的检查人员不足，无法为每个检查对象组成检查组"


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


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    message = "该 Idempotency-Key 已用于内容不同的请求"


class LicenceCancelled(Conflict):
    code = "licence_cancelled"
    message = "该企业的快递业务经营许可已注销"


@dataclass
class ValidationFailed(DomainError):
    """One or more input fields break a domain rule; every problem is listed at once."""

    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The first domain code, if any, becomes the problem's code so a client can branch on it.
        first = next((item for item in self.errors if item.code in FIELD_CODES), None)
        self.code = first.code if first else "validation_error"
        self.message = first.message if first else "输入数据校验未通过"
        self.extra = {}
        Exception.__init__(self, self.message)

    @classmethod
    def single(cls, field_name: str, code: str, message: str) -> "ValidationFailed":
        return cls([FieldError(field_name, code, message)])


def field_error(field_name: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed.single(field_name, code, message)


class MissingDocuments(ValidationFailed):
    """Submission without every required document; each missing kind is listed."""

    def __init__(self, kinds: list[str]) -> None:
        super().__init__(
            [
                FieldError(
                    f"documents.{kind}",
                    "missing_documents",
                    f"缺少必需的文件：{DocumentKind(kind).label}",
                )
                for kind in kinds
            ]
        )
        self.code = "missing_documents"
        self.message = "缺少必需的文件：" + "、".join(DocumentKind(k).label for k in kinds)
        self.extra = {"missing": kinds}


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
    "union_tag_invalid": "取值不在允许范围内",
    "union_tag_not_found": "缺少类型字段",
    "decimal_type": "应为数字",
    "finite_number": "应为有限数字",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多",
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


# pydantic names the member of a tagged union in an error's location (`sampling.rate.rates.low`);
# a client's field is `sampling.rates.low`.
UNION_TAGS = {"sampling": frozenset(SamplingMode.values())}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
    parts = [
        part
        for index, part in enumerate(parts)
        if not (index and part in UNION_TAGS.get(parts[index - 1], ()))
    ]
    return ".".join(parts) or "body"


# pydantic's errors about a value outside a fixed set, and the `ctx` key naming that set.
ALLOWED_CONTEXT = {
    "enum": "expected",
    "literal_error": "expected",
    "union_tag_invalid": "expected_tags",
}
# One value in pydantic's rendering of a set (`'a', 'b' or 3`, or `<SamplingMode.RATE: 'rate'>`
# for an enum member in a literal): a member's repr, a quoted string or a bare literal.
_EXPECTED_VALUE = re.compile(
    r"""<[\w.]+: (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^>]*)>"""
    r"""|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,\s]+"""
)
_MEMBER_REPR = re.compile(r"<[\w.]+: (.*)>", re.DOTALL)


def _allowed_values(expected: Any) -> list[Any] | None:
    """The raw values of a set pydantic names in an error's context (a string such as
    `'self_operated' or 'cooperative'`, or already a sequence)."""
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        return [value.value if isinstance(value, Enum) else value for value in expected]
    if not isinstance(expected, str):
        return None
    values: list[Any] = []
    for token in _EXPECTED_VALUE.findall(expected):
        if token == "or":
            continue
        member = _MEMBER_REPR.fullmatch(token)
        if member:
            token = member.group(1)
        try:
            values.append(ast.literal_eval(token))
        except (ValueError, SyntaxError):
            values.append(token)
    return values or None


def _allowed_message(values: list[Any]) -> str:
    return "取值应为：" + "、".join(str(value) for value in values)


def from_pydantic(items: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic errors as field errors: our rules' codes kept, pydantic's own given Chinese.

    A value outside a fixed set (an enum, a literal, a tagged union's tag) also lists the
    allowed values, in the message and as `allowed`."""
    result = []
    for item in items:
        kind = item.get("type", "value_error")
        message = item["msg"] if kind in FIELD_CODES else PYDANTIC_MESSAGES.get(kind, "取值不正确")
        loc = tuple(item.get("loc", ()))
        context = item.get("ctx") or {}
        allowed = (
            _allowed_values(context.get(ALLOWED_CONTEXT[kind])) if kind in ALLOWED_CONTEXT else None
        )
        if allowed is not None:
            message = _allowed_message(allowed)
        if kind == "union_tag_invalid" and isinstance(context.get("discriminator"), str):
            # The tag's own field (`sampling.mode`), not the union as a whole.
            loc = (*loc, context["discriminator"].strip("'\""))
        result.append(FieldError(_field_path(loc), kind, message, allowed))
    return result


class InvalidResetToken(ValidationFailed):
    """A password-reset token that is unknown, expired or already used (422)."""

    def __init__(self) -> None:
        message = "重置密码链接无效、已过期或已使用，请重新申请"
        super().__init__([FieldError("token", "invalid_reset_token", message)])
        self.code = "invalid_reset_token"
        self.message = message


class EnterpriseNotApproved(Forbidden):
    """An operator of an enterprise not (yet) approved: it may only see, correct and resubmit
    its registration (SPEC §1)."""

    code = "enterprise_not_approved"
    message = "企业登记尚未审核通过，仅可查看、修改并重新提交登记信息"


class OutsideLicenceScope(ValidationFailed):
    """A filing outside the operator's licensed area or validity (2018 filing rules, art. 8)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.code = "outside_licence_scope"
        self.message = "；".join(error.message for error in errors)


class ChangeAlreadyPending(Conflict):
    code = "change_pending"
    message = "已有一项登记信息变更在等待审核，请待审核完成后再提交"
