from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Applicant, SessionDep
from schemas.common import Id, Offset
from schemas.notifications import NotificationPage, NotificationPublic
from services.notifications import inbox

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=NotificationPage)
def list_notifications(
    session: SessionDep,
    user: Applicant,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> NotificationPage:
    """The caller's own notices, newest first, with how many are unread. Any logged-in user,
    including the owner of a registration not yet approved (it learns why it was rejected)."""
    rows, total, unread = inbox.list_for(session, user, limit=limit, offset=offset)
    return NotificationPage(
        items=[NotificationPublic.model_validate(row) for row in rows],
        total=total,
        unread=unread,
        limit=limit,
        offset=offset,
    )


@router.post("/{notification_id}/read", response_model=NotificationPublic)
def mark_read(session: SessionDep, user: Applicant, notification_id: Id) -> NotificationPublic:
    """Marks one of the caller's notices read; anyone else's is 404."""
    return NotificationPublic.model_validate(inbox.mark_read(session, user, notification_id))
