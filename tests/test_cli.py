from pathlib import Path

import pytest

from core import cli
from core.config import get_settings
from core.db import get_engine


def test_serve_refuses_a_database_that_is_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        assert cli.main(["serve"]) == 2
        assert "outlet-filing migrate" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()


def test_production_refuses_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from core.config import Settings

    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/x")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()
