"""Receipt signatures: compact JWS (RFC 7515), Ed25519 (`alg` "Ed25519", RFC 9864), via joserfc.

`RECEIPT_SIGNING_KEY` holds one or more PEM keys (text or a file path). The first private key
signs; every key (private or public) is published in the JWKS, so a retired key keeps old
receipts verifiable after rotation. In development, without the setting, a key is generated
once in `DATA_DIR` (mode 0600) and reused by every worker.
"""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import DictKey, KeySet, KeySetSerialization, OKPKey

from core.config import Settings, get_settings

ALGORITHM = "Ed25519"
TOKEN_TYPE = "outlet-receipt+jws"
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)


@dataclass(frozen=True)
class KeyRing:
    signer: OKPKey
    kid: str
    published: tuple[OKPKey, ...]

    def jwks(self) -> KeySetSerialization:
        keys: list[DictKey] = []
        for key in self.published:
            public = key.as_dict(private=False)
            keys.append({**public, "kid": key.thumbprint(), "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}

    def verification_keys(self) -> KeySet:
        return KeySet.import_key_set(self.jwks())


def _pem_text(setting: str) -> str:
    if "-----BEGIN" in setting:
        return setting
    return Path(setting).read_text(encoding="ascii")


def _development_key(directory: Path) -> str:
    path = directory / "receipt_signing_key.pem"
    directory.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        pem = OKPKey.generate_key("Ed25519").as_pem(private=True).decode()
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker wrote it first: use theirs
        else:
            with os.fdopen(handle, "w") as file:
                file.write(pem)
    return path.read_text(encoding="ascii")


def load_keyring(settings: Settings) -> KeyRing:
    if settings.receipt_signing_key:
        text = _pem_text(settings.receipt_signing_key)
    elif settings.environment == "production":
        raise RuntimeError("RECEIPT_SIGNING_KEY must be set in production")
    else:
        text = _development_key(settings.data_dir)
    keys = [OKPKey.import_key(block) for block in _PEM_BLOCK.findall(text)]
    signers = [key for key in keys if key.is_private]
    if not signers:
        raise RuntimeError("RECEIPT_SIGNING_KEY holds no Ed25519 private key")
    signer = signers[0]
    published: dict[str, OKPKey] = {}
    for key in keys:
        published.setdefault(key.thumbprint(), key)
    return KeyRing(signer=signer, kid=signer.thumbprint(), published=tuple(published.values()))


@lru_cache
def keyring() -> KeyRing:
    return load_keyring(get_settings())


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sign(payload: dict[str, Any], ring: KeyRing | None = None) -> tuple[str, str]:
    """(compact JWS, kid) of the payload's canonical JSON."""
    ring = ring or keyring()
    header = {"alg": ALGORITHM, "kid": ring.kid, "typ": TOKEN_TYPE}
    token = jws.serialize_compact(
        header, canonical(payload).encode(), ring.signer, algorithms=[ALGORITHM]
    )
    return token, ring.kid


class InvalidSignature(Exception):
    pass


def verify(token: str, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of a receipt JWS that verifies against `jwks`; InvalidSignature otherwise."""
    try:
        keys = KeySet.import_key_set({"keys": jwks["keys"]})
        result = jws.deserialize_compact(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError, KeyError) as error:
        raise InvalidSignature(str(error) or type(error).__name__) from error
    if result.protected.get("typ") != TOKEN_TYPE:
        raise InvalidSignature("not an outlet receipt (typ)")
    return json.loads(result.payload)
