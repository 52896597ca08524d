"""Production refuses what is unsafe, saying so in one Chinese line; the CLI applies the API's
account rules."""

import secrets
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from cli import main as cli
from core.config import Settings, get_settings, secret_strength_bits
from core.db import get_engine

STRONG_KEY = secrets.token_urlsafe(48)


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A complete production configuration, pointing at the test database."""
    database_url = get_settings().sqlalchemy_url
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("RECEIPT_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\n(test)\n")
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.mark.parametrize("weak", ["a" * 40, "ab" * 20, "password" * 5])
def test_production_refuses_a_low_entropy_secret_key(
    monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("RECEIPT_SIGNING_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/x")
    monkeypatch.setenv("SECRET_KEY", weak)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()


def test_production_accepts_a_random_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("RECEIPT_SIGNING_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/x")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(16))
    assert Settings().secret_key
    assert secret_strength_bits("a" * 40) == 0


def test_a_missing_production_setting_is_one_chinese_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("RECEIPT_SIGNING_KEY", "x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli.main(["audit-verify"]) == 2
    finally:
        get_settings.cache_clear()
    error = capsys.readouterr().err.strip()
    assert error.startswith("配置有误：") and "DATABASE_URL" in error
    assert "Traceback" not in error and len(error.splitlines()) == 1


def test_seed_demo_refuses_production(production: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["seed-demo"]) == 2
    assert "生产环境不能写入演示数据" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [("cli-admin", "short", "password"), ("bad name!", "Long-enough-1", "username")],
)
def test_create_user_applies_the_api_rules(
    capsys: pytest.CaptureFixture[str], username: str, password: str, field: str
) -> None:
    code = cli.main(
        [
            "create-user",
            "--username",
            username,
            "--password",
            password,
            "--role",
            "admin",
            "--jurisdiction",
            "451100",
        ]
    )
    assert code == 2
    assert f"创建失败：{field}" in capsys.readouterr().err
