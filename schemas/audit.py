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


class AuditHead(BaseModel):
    """The audit chain's head: keep it, and later `outlet-filing audit-verify --against
    HEAD_HASH` (or compare) to find out whether the history before it was rewritten."""

    entries: int
    head_hash: str
    at: Timestamp | None  # the last entry's time; null while the chain is empty
