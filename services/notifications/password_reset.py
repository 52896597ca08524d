"""Lost passwords (SPEC §4.1): a one-time link sent to the account's e-mail or mobile.

The answer to a request never tells whether the user exists. Only the token's SHA-256 is stored;
it expires after 30 minutes and works once. The link travels only by the delivery channels (not
the in-app inbox, which the person cannot reach), and the delivery's copy of it is blanked once
sent, and a delivery not out before its token expires is given up and blanked. Requests are
counted per username and per client address in the shared throttle table: beyond either limit
nothing more is sent for a while (the answer stays the same).
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from domain.errors import InvalidResetToken
from domain.vocabulary import DeliveryStatus, NotificationKind
from models.base import aware, pk
from models.notification import Delivery, PasswordResetToken
from models.user import User
from services.accounts import throttling
from services.notifications.outbox import channels_of, queue_deliveries
from services.oversight import audit

TOKEN_LIFETIME = timedelta(minutes=30)
REQUESTS_PER_USERNAME = throttling.Limit(5, timedelta(hours=1), timedelta(hours=1))
# One address asking for many usernames' links (an office shares one address: generous).
REQUESTS_PER_ADDRESS = throttling.Limit(30, timedelta(hours=1), timedelta(hours=1))
MAX_USERNAME_LENGTH = 64


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _throttle_key(username: str) -> str:
    name = throttling.normalise_username(username)
    if len(name) > 100 or not name.isprintable():
        name = "#" + token_hash(name)
    return "reset:user:" + name


def address_key(address: str) -> str:
    return "reset:addr:" + throttling._address_part(address)  # IPv6 per /64, as logins


def request_reset(session: Session, *, username: str, client: str | None = None) -> bool:
    """Sends a reset link when the user exists, is active and has a reachable address.
    True when one was queued (for tests and logs only: the API answers the same either way)."""
    key = _throttle_key(username)
    keys = [key] if client is None else [key, address_key(client)]
    if throttling.locked_seconds(session, keys, for_update=True) > 0:
        return False
    throttling.hit(session, key, REQUESTS_PER_USERNAME)
    if client is not None:
        throttling.hit(session, address_key(client), REQUESTS_PER_ADDRESS)
    user = None
    if len(username) <= MAX_USERNAME_LENGTH and username.isprintable():
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active or not channels_of(user):
        return False
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires_at = now + TOKEN_LIFETIME
    session.add(
        PasswordResetToken(
            user_id=pk(user), token_hash=token_hash(token), expires_at=expires_at, created_at=now
        )
    )
    link = f"{get_settings().public_base_url.rstrip('/')}/reset-password?token={token}"
    queue_deliveries(
        session,
        user,
        kind=NotificationKind.PASSWORD_RESET,
        subject="重置密码",
        text=(
            f"{user.display_name}，您（或他人）申请重置账号 {user.username} 的密码。"
            f"请在 30 分钟内打开以下链接设置新密码（仅可使用一次）：\n{link}\n"
            "如非本人操作，请忽略本消息，原密码仍然有效。"
        ),
        expires_at=expires_at,  # a link not out before its token expires is not sent at all
    )
    session.flush()
    return True


def confirm_reset(session: Session, *, token: str, password_hash: str) -> User:
    """Sets the new password (hashed beforehand, outside the transaction), ends every session
    (token_version), and burns this token and any other outstanding one of the user's."""
    row = session.exec(
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == token_hash(token))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    now = clock.now()
    if row is None or row.used_at is not None or aware(row.expires_at) <= now:
        raise InvalidResetToken()
    user = session.get(User, row.user_id, with_for_update=True, populate_existing=True)
    if user is None or not user.active:
        raise InvalidResetToken()
    session.execute(
        update(PasswordResetToken)
        .where(
            col(PasswordResetToken.user_id) == pk(user), col(PasswordResetToken.used_at).is_(None)
        )
        .values(used_at=now),
        execution_options={"synchronize_session": False},
    )
    # Links of the user's other requests still waiting to go out are useless now: dropped.
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.user_id) == pk(user),
            col(Delivery.kind) == NotificationKind.PASSWORD_RESET,
            col(Delivery.status) == DeliveryStatus.PENDING,
            or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
        )
        .values(status=DeliveryStatus.FAILED, body="", last_error="superseded"),
        execution_options={"synchronize_session": False},
    )
    user.password_hash = password_hash
    user.token_version += 1
    user.failed_login_count = 0
    user.locked_until = None
    session.add(user)
    throttling.clear(session, throttling.login_user_key(user.username))
    session.flush()
    audit.append(
        session,
        actor_id=user.id,
        action="user.password_reset",
        entity="user",
        entity_id=user.id,
        data={},
        region_code=user.jurisdiction,
    )
    return user
