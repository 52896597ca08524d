import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from domain.vocabulary import EnterpriseStatus, Role
from schemas.common import (
    Mobile,
    NoControl,
    NotNull,
    Password,
    RegionCode,
    ShortText,
    Timestamp,
    Username,
)

# One @, no spaces or control characters, a dotted domain: what a mail server will take.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value) or ".." in value:
        raise PydanticCustomError("validation_error", "电子邮件地址格式不正确")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


# The one e-mail type (accounts, self-service, enterprise registration and contacts): control,
# bidirectional and surrogate characters are refused first (as in every text field), then the
# shape is checked; the mail server decides the rest.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    NoControl,
    AfterValidator(_email),
]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    username: Username
    password: Password
    role: str
    jurisdiction: RegionCode
    display_name: ShortText


class UserUpdate(BaseModel):
    display_name: Annotated[ShortText | None, NotNull] = None
    password: Annotated[Password | None, NotNull] = None
    active: Annotated[bool | None, NotNull] = None
    jurisdiction: Annotated[RegionCode | None, NotNull] = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    jurisdiction: str
    display_name: str
    enterprise_id: int | None
    active: bool
    email: str | None
    mobile: str | None
    is_owner: bool
    created_at: Timestamp


class Me(UserPublic):
    """The caller's own account; an operator's also shows its enterprise's status."""

    enterprise_status: EnterpriseStatus | None = None


class MeUpdate(BaseModel):
    """Self-service: contact details (null clears one), and a new password with the current one."""

    email: Email | None = None
    mobile: Mobile | None = None
    password: Annotated[Password | None, NotNull] = None
    current_password: Annotated[str | None, StringConstraints(max_length=128), NotNull] = None


class OperatorAccountCreate(BaseModel):
    username: Username
    password: Password
    display_name: ShortText
    email: Email | None = None
    mobile: Mobile | None = None


class OperatorAccountUpdate(BaseModel):
    """`active`, a new `password` (both end the account's tokens), or `is_owner: true` to hand
    the owner role to this (active) account."""

    active: Annotated[bool | None, NotNull] = None
    password: Annotated[Password | None, NotNull] = None
    is_owner: Annotated[bool | None, NotNull] = None
