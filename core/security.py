"""Password hashing (Argon2) and access tokens (JWT, HS256 with SECRET_KEY)."""

from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.config import get_settings

_hasher = PasswordHasher()
# Verified against when a username does not exist, so the response time does not tell.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")
TOKEN_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(user_id: int) -> str:
    settings = get_settings()
    issued = clock.now()
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=TOKEN_ALGORITHM)


def decode_access_token(token: str) -> int | None:
    """The user id in a valid, unexpired token; None otherwise."""
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[TOKEN_ALGORITHM],
            # Expiry is checked against the service clock, the one tests can fix.
            options={"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False},
        )
        if int(claims["exp"]) <= clock.now().timestamp():
            return None
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
