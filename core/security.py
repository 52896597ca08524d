"""Password hashing (Argon2), access tokens (JWT, HS256 with SECRET_KEY), the client's address."""

import contextlib
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from math import isfinite
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.config import get_settings

_hasher = PasswordHasher()
# Verified against when a username does not exist (or has no usable hash), so that every login
# costs exactly one Argon2 verification and the response time does not tell.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")
TOKEN_ALGORITHM = "HS256"
MAX_USER_ID = 2**63 - 1  # a BIGINT: a larger `sub` is no user (and must not reach the database)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Argon2 takes a core for ~0.2 s and 64 MiB. Hashing runs in its own threads, at most one per
# core, so a burst of logins queues here instead of taking every core and all the memory; and
# those threads run at a lower CPU priority (Linux), so a login waits rather than a write.
HASHING_SLOTS = _cores()
HASHING_NICENESS = 10


def _lower_priority() -> None:
    if sys.platform == "linux":  # elsewhere a thread id is not a target for setpriority
        with contextlib.suppress(OSError):  # not allowed here: hash at the usual priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_hashing = ThreadPoolExecutor(
    max_workers=HASHING_SLOTS, thread_name_prefix="password-hashing", initializer=_lower_priority
)


def hash_password(password: str) -> str:
    """Slow on purpose: call it outside any write transaction (hash first, then write)."""
    return _hashing.submit(lambda: _hasher.hash(password)).result()


def _verify(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password)
    except InvalidHashError:
        _hasher.verify(_DUMMY_HASH, password)  # the same work for an unusable stored hash
        return False
    except VerificationError:
        return False


def verify_password(password: str, password_hash: str | None) -> bool:
    """One Argon2 verification whatever the input: without a hash (an unknown user) it verifies
    against a dummy hash and answers False, taking the same time as a wrong password."""
    matched = _hashing.submit(_verify, password, password_hash).result()
    return matched and password_hash is not None


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int


def create_access_token(user_id: int, token_version: int = 0) -> str:
    """A token for the user at its current `token_version` (bumped when the password changes or
    the user is deactivated: older tokens then stop working)."""
    settings = get_settings()
    issued = clock.now()
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "ver": token_version,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM)


def _user_id(subject: object) -> int | None:
    """The user id a `sub` claim names: ASCII digits for 1 … 2^63 - 1; None for anything else."""
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
        return None
    if len(subject) > len(str(MAX_USER_ID)):
        return None
    user_id = int(subject)
    return user_id if 1 <= user_id <= MAX_USER_ID else None


def decode_access_token(token: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else (never an exception)."""
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[TOKEN_ALGORITHM],
            # Expiry is checked against the service clock, the one tests can fix.
            options={"require": ["sub", "exp", "ver"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    expires, version = claims["exp"], claims["ver"]
    if isinstance(expires, bool) or not isinstance(expires, int | float) or not isfinite(expires):
        return None
    if expires <= clock.now().timestamp():
        return None
    user_id = _user_id(claims["sub"])
    if user_id is None or isinstance(version, bool) or not isinstance(version, int):
        return None
    if not 0 <= version <= MAX_USER_ID:
        return None
    return TokenClaims(user_id, version)


# --- the client's address ---------------------------------------------------------------------

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (`1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`); None if
    it is not one. An IPv4-mapped IPv6 address is its IPv4 address."""
    text = text.strip()
    port = ""
    if text.startswith("["):
        text, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else ""
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
    if port and not (port.isascii() and port.isdigit()):
        return None
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[IPNetwork]
) -> str:
    """Who is asking: the socket peer; or, only when the peer is a trusted proxy, the right-most
    address of X-Forwarded-For that is not a trusted proxy (everything left of it could have
    been written by the client). `forwarded_for` is every X-Forwarded-For header, in order.

    If a hop cannot be read, the last readable address is used (the proxy that received it):
    a client must not pick its own address by writing nonsense.
    """
    peer_address = parse_address(peer) if peer else None
    if peer_address is None:
        return peer or "unknown"
    if not _trusted(peer_address, proxies):
        return str(peer_address)
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    nearest = peer_address
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return str(nearest)
        if not _trusted(address, proxies):
            return str(address)
        nearest = address
    return str(nearest)  # every hop is a proxy of ours: the left-most one asked
