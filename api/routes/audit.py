from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.deps import Admin, SessionDep
from models.audit import AuditEntry
from schemas.audit import AuditEntryPublic, ChainVerification
from services.oversight import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditEntryPublic])
def list_entries(
    session: SessionDep,
    _admin: Admin,
    entity: str | None = None,
    entity_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: int | None = None,
) -> list[AuditEntryPublic]:
    """The audit trail, newest first (page with `before_id`)."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if before_id:
        query = query.where(col(AuditEntry.id) < before_id)
    return [AuditEntryPublic.model_validate(entry) for entry in session.exec(query).all()]


@router.get("/verification", response_model=ChainVerification)
def verify_chain(session: SessionDep, _admin: Admin) -> ChainVerification:
    """Recomputes the hash chain and reports the first entry that was altered."""
    return ChainVerification(**audit.verify(session).as_dict())
