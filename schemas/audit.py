from pydantic import BaseModel, ConfigDict

from schemas.common import Timestamp


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: Timestamp
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    region_code: str | None
    data: str
    prev_hash: str
    hash: str


class ChainVerification(BaseModel):
    verified: bool
    entries: int
    first_broken_id: int | None
    reason: str | None
