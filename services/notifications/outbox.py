"""The outbox: in-app notices and the e-mail/SMS deliveries written with them (SPEC §10).

`notify` runs inside the transaction of the event it tells about (services flush, never commit),
so a notice exists exactly when its event does. Deliveries are sent later by the worker
(`services.notifications.delivery`).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from domain.vocabulary import DeliveryChannel, DeliveryStatus, NotificationKind, Role
from models.base import pk
from models.notification import Delivery, Notification
from models.user import User
from services.reference import regions

MAX_TITLE = 200
DELIVER_FOR = timedelta(days=3)  # a message not out by then is given up (SPEC §10: retried)


def absolute(link: str | None) -> str | None:
    """A link as people open it from an e-mail or SMS."""
    if link is None or "://" in link:
        return link
    return get_settings().public_base_url.rstrip("/") + link


def channels_of(user: User) -> list[tuple[DeliveryChannel, str]]:
    """Where a message to `user` goes besides the inbox: the configured channels it has an
    address for."""
    settings = get_settings()
    found: list[tuple[DeliveryChannel, str]] = []
    if settings.smtp_url and user.email:
        found.append((DeliveryChannel.EMAIL, user.email))
    if settings.sms_webhook_url and user.mobile:
        found.append((DeliveryChannel.SMS, user.mobile))
    return found


def queue_deliveries(
    session: Session,
    user: User,
    *,
    kind: NotificationKind,
    subject: str,
    text: str,
    notification_id: int | None = None,
    expires_at: datetime | None = None,
) -> list[Delivery]:
    """Pending deliveries of one message to each of `user`'s configured channels, tried until
    `expires_at` (by default DELIVER_FOR from now)."""
    now = clock.now()
    rows = [
        Delivery(
            notification_id=notification_id,
            user_id=user.id,
            kind=kind,
            channel=channel,
            address=address,
            subject=subject[:MAX_TITLE],
            body=text,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
            expires_at=expires_at or now + DELIVER_FOR,
        )
        for channel, address in channels_of(user)
    ]
    session.add_all(rows)
    return rows


def notify(
    session: Session,
    users: Iterable[User],
    *,
    kind: NotificationKind,
    title: str,
    body: str,
    link: str | None = None,
) -> list[Notification]:
    """One in-app notice per (active, distinct) user, and its deliveries where configured."""
    seen: set[int] = set()
    written: list[Notification] = []
    now = clock.now()
    for user in users:
        if not user.active or pk(user) in seen:
            continue
        seen.add(pk(user))
        notice = Notification(
            user_id=pk(user),
            kind=kind,
            title=title[:MAX_TITLE],
            body=body,
            link=link,
            created_at=now,
        )
        session.add(notice)
        session.flush()
        url = absolute(link)
        text = f"{body}\n\n{url}" if url else body
        queue_deliveries(
            session, user, kind=kind, subject=title, text=text, notification_id=notice.id
        )
        written.append(notice)
    session.flush()
    return written


def enterprise_recipients(session: Session, enterprise_id: int) -> list[User]:
    """An enterprise's notices go to each of its active operator accounts."""
    return list(
        session.exec(
            select(User)
            .where(
                User.enterprise_id == enterprise_id,
                User.role == Role.OPERATOR,
                col(User.active).is_(True),
            )
            .order_by(col(User.id))
        ).all()
    )


def staff_recipients(session: Session, role: Role, region_code: str) -> list[User]:
    """Active staff of `role` whose jurisdiction covers `region_code`."""
    staff = session.exec(
        select(User).where(User.role == role, col(User.active).is_(True)).order_by(col(User.id))
    ).all()
    return [user for user in staff if regions.covers(user.jurisdiction, region_code)]
