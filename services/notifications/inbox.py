"""A user's in-app notices: listed newest first, marked read one by one."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import clock
from domain.errors import NotFound
from models.base import pk
from models.notification import Notification
from models.user import User


def list_for(
    session: Session, user: User, *, limit: int, offset: int
) -> tuple[list[Notification], int, int]:
    """(page of notices, total, unread) of `user`'s own notices."""
    mine = col(Notification.user_id) == pk(user)
    rows = session.exec(
        select(Notification)
        .where(mine)
        .order_by(col(Notification.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.exec(select(func.count()).select_from(Notification).where(mine)).one()
    unread = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(mine, col(Notification.read_at).is_(None))
    ).one()
    return list(rows), int(total), int(unread)


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    """Marks one of the caller's notices read (again: unchanged). Anyone else's is 404."""
    notice = session.get(Notification, notification_id)
    if notice is None or notice.user_id != pk(user):
        raise NotFound("通知不存在")
    if notice.read_at is None:
        notice.read_at = clock.now()
        session.add(notice)
        session.flush()
    return notice
