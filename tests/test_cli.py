from pathlib import Path

import pytest

from cli import main as cli
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


def test_audit_verify_command_finds_an_edited_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    from core.db import session_scope
    from core.migrate import upgrade
    from services.oversight import audit

    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        upgrade(url)
        with session_scope() as session:
            for n in range(3):
                audit.append(session, actor_id=None, action="test.event", entity="x", entity_id=n)
        assert cli.main(["audit-verify"]) == 0
        with session_scope() as session:
            session.execute(text("UPDATE audit_entry SET action = 'forged' WHERE id = 2"))
        assert cli.main(["audit-verify"]) == 1
        assert "#2" in capsys.readouterr().err
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
