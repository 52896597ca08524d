from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import RegionLevel
from schemas.common import NotNull, ShortText


class RegionNode(BaseModel):
    code: str
    name: str
    level: RegionLevel
    children: list["RegionNode"] = Field(default_factory=list)


class BrandPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    active: bool


class BrandCreate(BaseModel):
    code: ShortText = Field(pattern=r"^[A-Z0-9_]{1,16}$")
    name: ShortText


class BrandUpdate(BaseModel):
    name: Annotated[ShortText | None, NotNull] = None
    active: Annotated[bool | None, NotNull] = None
