from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.vocabulary import Role
from schemas.common import Password, RegionCode, ShortText, Username


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
    display_name: ShortText | None = None
    password: Password | None = None
    active: bool | None = None
    jurisdiction: RegionCode | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    jurisdiction: str
    display_name: str
    enterprise_id: int | None
    active: bool
    created_at: datetime
