from pydantic import BaseModel, ConfigDict

from domain.vocabulary import EnterpriseStatus
from schemas.common import Mobile, Password, RegionCode, ShortText, Text, Timestamp, Uscc, Username


class EnterpriseRegister(BaseModel):
    name: Text
    uscc: Uscc
    licence_no: ShortText
    region_code: RegionCode
    is_branch: bool = False
    contact_name: ShortText
    contact_mobile: Mobile
    username: Username
    password: Password


class LicenceCancellation(BaseModel):
    reason: Text


class EnterprisePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    uscc: str
    licence_no: str
    region_code: str
    is_branch: bool
    contact_name: str
    contact_mobile: str
    status: EnterpriseStatus
    created_at: Timestamp
    approved_at: Timestamp | None
    licence_cancelled_at: Timestamp | None
