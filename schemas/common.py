"""Validators shared by request schemas; the rules themselves live in services."""

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, StringConstraints
from pydantic_core import PydanticCustomError

from domain import identifiers
from domain.errors import FieldError

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


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
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
