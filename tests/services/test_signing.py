"""Receipt signing keys: rotation keeps old receipts verifiable; production needs a key."""

from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from core.config import Settings
from services.receipts import signing


def _pem() -> str:
    return OKPKey.generate_key("Ed25519").as_pem(private=True).decode()


def test_first_private_key_signs_and_every_key_is_published() -> None:
    old, new = _pem(), _pem()
    before = signing.load_keyring(Settings(receipt_signing_key=old))
    token, old_kid = signing.sign({"receipt_no": "A-R1"}, before)
    rotated = signing.load_keyring(Settings(receipt_signing_key=new + "\n" + old))
    assert rotated.kid != old_kid
    assert {key["kid"] for key in rotated.jwks()["keys"]} == {rotated.kid, old_kid}
    assert signing.verify(token, rotated.jwks()) == {"receipt_no": "A-R1"}
    fresh, _ = signing.sign({"receipt_no": "A-R2"}, rotated)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(fresh, before.jwks())  # an old key set cannot vouch for a new key


def test_published_keys_hold_no_private_part() -> None:
    ring = signing.load_keyring(Settings(receipt_signing_key=_pem()))
    assert all("d" not in key for key in ring.jwks()["keys"])


def test_a_retired_public_key_alone_still_verifies(tmp_path: Path) -> None:
    old_key = OKPKey.generate_key("Ed25519")
    old_ring = signing.load_keyring(
        Settings(receipt_signing_key=old_key.as_pem(private=True).decode())
    )
    token, _ = signing.sign({"receipt_no": "B-R1"}, old_ring)
    path = tmp_path / "keys.pem"
    path.write_text(_pem() + "\n" + old_key.as_pem(private=False).decode())
    ring = signing.load_keyring(Settings(receipt_signing_key=str(path)))
    assert signing.verify(token, ring.jwks())["receipt_no"] == "B-R1"


def test_production_refuses_to_generate_a_key() -> None:
    settings = Settings.model_construct(environment="production", receipt_signing_key=None)
    with pytest.raises(RuntimeError):
        signing.load_keyring(settings)
