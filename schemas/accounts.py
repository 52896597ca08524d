from typing import Annotated

from pydantic import BaseModel, ConfigDict

from domain.vocabulary import Role
from schemas.common import NotNull, Password, RegionCode, ShortText, Timestamp, Username


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
