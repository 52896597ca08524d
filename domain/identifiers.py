"""Check digits and formats of Chinese identifiers (pure functions, python-stdnum underneath)."""

import re
from datetime import date

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric, uscc

from domain.errors import FieldError

_MOBILE = re.compile(r"^(?:\+86)?(1[3-9]\d{9})$")


def uscc_error(value: str, field_name: str = "uscc") -> FieldError | None:
    try:
        uscc.validate(value)
    except stdnum_exceptions.ValidationError:
        return FieldError(field_name, "invalid_uscc", "统一社会信用代码格式或校验位不正确")
    return None


def normalise_uscc(value: str) -> str:
    return uscc.compact(value)


def id_number_error(value: str, field_name: str = "id_number") -> FieldError | None:
    """Form, birth date and check digit of a resident ID (GB 11643).

    stdnum's `validate` also demands that the area code be in its division table; an ID keeps the
    code of its first registration for life and tables miss codes, so that miss alone is no error.
    """
    error = FieldError(
        field_name, "invalid_id_number", "居民身份证号码格式、出生日期或校验位不正确"
    )
    try:
        ric.validate(value)
    except (stdnum_exceptions.InvalidComponent, KeyError):
        # An area code stdnum's table lacks (a KeyError for a partial match), or a bad birth
        # date: the date is checked below, the area code is not held against the number.
        pass
    except stdnum_exceptions.ValidationError:
        return error
    try:
        birth = ric.get_birth_date(value)
    except (stdnum_exceptions.ValidationError, ValueError):
        return error
    return error if birth > date.today() or birth.year < 1900 else None


def normalise_id_number(value: str) -> str:
    return ric.compact(value)


def mobile_error(value: str, field_name: str = "mobile") -> FieldError | None:
    if not _MOBILE.match(value.replace(" ", "").replace("-", "")):
        return FieldError(
            field_name, "invalid_phone", "手机号码应为 1[3-9] 开头的 11 位数字（可带 +86）"
        )
    return None


def normalise_mobile(value: str) -> str:
    match = _MOBILE.match(value.replace(" ", "").replace("-", ""))
    return match.group(1) if match else value


def mask_mobile(value: str) -> str:
    """138****1234 — for every public view."""
    digits = normalise_mobile(value)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


def mask_name(value: str) -> str:
    """张* / 欧阳** — keep the first character only."""
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value
