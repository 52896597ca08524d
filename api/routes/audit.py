from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, SessionDep
from schemas.audit import AuditEntryPublic, ChainVerification
from schemas.common import Filter, Id
from services.oversight import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditEntryPublic])
def list_entries(
    session: SessionDep,
    admin: Admin,
    entity: Filter | None = None,
    entity_id: Filter | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Id | None = None,
) -> list[AuditEntryPublic]:
    """The audit trail, newest first (page with `before_id`): a city-level admin reads every
    entry, a county admin those whose subject lies in its county."""
    entries = audit.entries_within(
        session,
        within=admin.jurisdiction,
        entity=entity,
        entity_id=entity_id,
        before_id=before_id,
        limit=limit,
    )
    return [AuditEntryPublic.model_validate(entry) for entry in entries]


@router.get("/verification", response_model=ChainVerification)
def verify_chain(session: SessionDep, admin: Admin) -> ChainVerification:
    """Recomputes the hash chain and reports the first entry that was altered (city-level
    admins: the check reads every entry; 403 `outside_jurisdiction` for a county admin)."""
    return ChainVerification(**audit.verify_within(session, within=admin.jurisdiction).as_dict())
