"""Validators shared by request schemas; the rules themselves live in services."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from domain import identifiers
from domain.errors import FieldError
from models.base import aware

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)


def _raise(error: FieldError | None) -> None:
    if error is not None:
        raise PydanticCustomError(error.code, error.message)


def _uscc(value: str) -> str:
    _raise(identifiers.uscc_error(value))
    return identifiers.normalise_uscc(value)


def _id_number(value: str) -> str:
    _raise(identifiers.id_number_error(value))
    return identifiers.normalise_id_number(value)


def _mobile(value: str) -> str:
    _raise(identifiers.mobile_error(value))
    return identifiers.normalise_mobile(value)


def _region_code(value: str) -> str:
    if not value.isdigit() or len(value) not in (6, 9):
        raise PydanticCustomError("unknown_region", "地区代码应为 6 位或 9 位数字")
    return value


# A moment in a response: always with its offset (SPEC §4.1), also when SQLite hands it back
# naive (every stored timestamp is UTC).
Timestamp = Annotated[datetime, AfterValidator(aware)]


# --- integers: each in the range its column holds (SPEC §4: else 422, never a 500) -----------

ID_MAX = 2**31 - 1  # ids are INTEGER columns: PostgreSQL's int4 (SQLite's would hold more)
BIGINT_MAX = 2**63 - 1  # the largest integer SQLite and PostgreSQL hold (OFFSET is a bigint)

Id = Annotated[int, Field(ge=1, le=ID_MAX)]  # a record's id, in a path or a query
Offset = Annotated[int, Field(ge=0, le=BIGINT_MAX)]  # a page's offset
NonNegativeInt = Annotated[int, Field(ge=0, le=BIGINT_MAX)]  # e.g. a public randomness value


# --- text: no control characters, and something visible ------------------------------------

# Control characters (C0, DEL, C1; newline is allowed in long text only), lone surrogates (which
# cannot be stored as UTF-8) and the bidirectional embedding, override and isolate controls
# (they make a name display as something else).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
# Characters that show nothing, beyond whitespace and the format characters (category Cf: zero
# width spaces and joiners U+200B-U+200D, word joiner U+2060, BOM U+FEFF, bidi marks): fillers.
_BLANK_LOOKING = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def _invisible(char: str) -> bool:
    return char.isspace() or char in _BLANK_LOOKING or unicodedata.category(char) == "Cf"


def _visible_text(value: str, control: re.Pattern[str]) -> str:
    if control.search(value):
        raise PydanticCustomError("validation_error", "不能包含控制字符")
    if all(_invisible(char) for char in value):
        raise PydanticCustomError("validation_error", "不能只由空白或不可见字符组成")
    return value


def _single_line(value: str) -> str:
    return _visible_text(value, _CONTROL)


def _multi_line(value: str) -> str:
    # Browsers send a textarea's line breaks as CRLF: each is kept as one newline.
    return _visible_text(value.replace("\r\n", "\n"), _CONTROL_BUT_NEWLINE)


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("validation_error", "不能包含控制字符")
    return value


def _no_control_but_newline(value: str) -> str:
    value = value.replace("\r\n", "\n")
    if _CONTROL_BUT_NEWLINE.search(value):
        raise PydanticCustomError("validation_error", "不能包含控制字符")
    return value


# For strings that may be empty (codes, filters, optional notes): after their StringConstraints,
# e.g. `Annotated[str, StringConstraints(max_length=16), NoControl]`.
NoControl = AfterValidator(_no_control)
NoControlButNewline = AfterValidator(_no_control_but_newline)


def _given(value: T | None) -> T:
    if value is None:
        raise PydanticCustomError("validation_error", "不能为 null：不修改就不要传这个字段")
    return value


# For a PATCH field that may be left out but, when given, must have a value (a column that holds
# no NULL): `active: Annotated[bool | None, NotNull] = None`. Defaults are not validated.
NotNull = AfterValidator(_given)

# Path and query strings.
Filter = Annotated[str, StringConstraints(max_length=64), NoControl]  # a code or a status
SearchText = Annotated[str, StringConstraints(max_length=100), NoControl]  # a list's `q`
PublicSearchText = Annotated[str, StringConstraints(max_length=50), NoControl]  # the directory's


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_single_line),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_multi_line),
]
Uscc = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=18), AfterValidator(_uscc)
]
IdNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=18), AfterValidator(_id_number)
]
Mobile = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20), AfterValidator(_mobile)
]
RegionCode = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=12), AfterValidator(_region_code)
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$"
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    total_exact: bool = True  # False: there are more than `total` (a capped count)
    limit: int
    offset: int


@dataclass(frozen=True)
class Written(Generic[ModelT]):
    """What a write answers: its body and the headers clients rely on (kept for replays)."""

    body: ModelT
    etag: str | None = None
    location: str | None = None

    def headers(self) -> dict[str, str]:
        found = {"ETag": self.etag, "Location": self.location}
        return {name: value for name, value in found.items() if value is not None}


class ProblemFieldError(BaseModel):
    """One input field's problem: `allowed` lists the values of a fixed set."""

    model_config = ConfigDict(extra="allow")

    field: str
    code: str
    message: str
    allowed: list[Any] | None = None


class Problem(BaseModel):
    """Every error response, as `application/problem+json` (RFC 9457) with a stable `code`."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemFieldError] | None = None
