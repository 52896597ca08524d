"""Throttling of anonymous attempts (logins, registrations), kept in the database so that every
worker and instance counts together.

A key (`login:user:<name>`, `login:addr:<client address>`, `register:addr:<client address>`)
counts attempts in a window; reaching the limit locks the key for a while (429 with
Retry-After). Reads (`check`) take no lock; counting (`hit`) is a short write.
"""

import hashlib
import math
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv6Address, IPv6Network, ip_address

from sqlalchemy import delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from core.db import is_postgresql
from domain.errors import RateLimited
from models.base import aware
from models.throttle import Throttle

MAX_KEY_PART = 100  # longer names are keyed by their digest (the key column holds 160)
SWEEP_AFTER = timedelta(days=1)  # rows idle this long (and not locked) are deleted, now and then
SWEEP_CHANCE = 0.01


@dataclass(frozen=True)
class Limit:
    """`attempts` within `window` lock the key for `lockout`."""

    attempts: int
    window: timedelta
    lockout: timedelta


def login_per_user() -> Limit:
    """Failed logins for one username (existing or not)."""
    settings = get_settings()
    return Limit(
        settings.login_max_failures,
        timedelta(minutes=15),
        timedelta(seconds=settings.login_lockout_seconds),
    )


def login_per_address() -> Limit:
    """Failed logins from one client address, whatever the usernames (an office shares one)."""
    settings = get_settings()
    return Limit(
        4 * settings.login_max_failures,
        timedelta(minutes=15),
        timedelta(seconds=settings.login_lockout_seconds),
    )


REGISTRATIONS_PER_ADDRESS = Limit(10, timedelta(hours=1), timedelta(hours=1))


def _part(value: str) -> str:
    """`value` itself if short and printable; otherwise its digest (NUL, lone surrogates and
    megabyte names are somebody's attack, and still counted, under one key each)."""
    if len(value) <= MAX_KEY_PART and value.isprintable():
        return value
    return "#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_username(username: str) -> str:
    """The name as people mean it: NFKC, no surrounding space, case folded."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _address_part(address: str) -> str:
    """IPv6 clients are counted per /64 (one subscriber's usual allocation)."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return _part(address)
    if isinstance(parsed, IPv6Address):
        return str(IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def login_user_key(username: str) -> str:
    return "login:user:" + _part(normalise_username(username))


def login_address_key(address: str) -> str:
    return "login:addr:" + _address_part(address)


def registration_address_key(address: str) -> str:
    return "register:addr:" + _address_part(address)


def locked_seconds(session: Session, keys: Iterable[str], *, for_update: bool = False) -> int:
    """How long the longest lock on any of `keys` lasts (0: none is locked)."""
    query = select(Throttle).where(col(Throttle.key).in_(sorted(set(keys))))
    if for_update:
        query = query.with_for_update().order_by(col(Throttle.key))
    now = clock.now()
    remaining = 0.0
    for row in session.exec(query.execution_options(populate_existing=True)).all():
        locked_until = aware(row.locked_until)
        if locked_until is not None and locked_until > now:
            remaining = max(remaining, (locked_until - now).total_seconds())
    return math.ceil(remaining)


def check(session: Session, keys: Iterable[str], *, for_update: bool = False) -> None:
    """429 while any of `keys` is locked."""
    seconds = locked_seconds(session, keys, for_update=for_update)
    if seconds > 0:
        raise RateLimited(seconds)


def hit(session: Session, key: str, limit: Limit) -> None:
    """Counts one attempt; the one that reaches the limit locks the key (and is still allowed)."""
    now = clock.now()
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    session.execute(
        insert(Throttle)
        .values(key=key, window_start=now, count=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.exec(
        select(Throttle)
        .where(Throttle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if now - aware(row.window_start) >= limit.window:
        row.window_start, row.count = now, 0
    row.count += 1
    if row.count >= limit.attempts:
        row.locked_until = now + limit.lockout
        row.window_start, row.count = now, 0
    session.add(row)
    session.flush()
    if random.random() < SWEEP_CHANCE:
        sweep(session)


def clear(session: Session, key: str) -> None:
    session.execute(
        delete(Throttle).where(col(Throttle.key) == key),
        execution_options={"synchronize_session": False},  # rows are read with populate_existing
    )


def sweep(session: Session) -> int:
    """Deletes the rows nobody has counted on for a day (and that hold no lock)."""
    now = clock.now()
    result = session.execute(
        delete(Throttle).where(
            col(Throttle.window_start) < now - SWEEP_AFTER,
            or_(col(Throttle.locked_until).is_(None), col(Throttle.locked_until) < now),
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def count_registration(session: Session, address: str) -> None:
    """One registration from `address`: 429 once it has made its hourly share."""
    key = registration_address_key(address)
    check(session, [key], for_update=True)
    hit(session, key, REGISTRATIONS_PER_ADDRESS)
