"""Issue 11 (C): the migration that gives accounts contacts and owners (d4a6c8e0f2b3) fills each
existing owner's mobile from its enterprise's contact mobile, and nothing else."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from core.db import make_engine
from core.migrate import upgrade

BEFORE = "c3f5a7b9d1e2"
AFTER = "d4a6c8e0f2b3"


@pytest.fixture
def scratch_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as the test database."""
    if engine.dialect.name == "postgresql":
        name = f"{engine.url.database}_owner_mobile"
        admin = make_engine(str(engine.url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield engine.url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield str(make_url(f"sqlite:///{tmp_path / 'scratch.sqlite3'}"))


def test_existing_owners_get_their_enterprise_contact_mobile(scratch_url: str) -> None:
    upgrade(scratch_url, BEFORE)
    engine = make_engine(scratch_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO region (code, name, level, parent_code) "
                "VALUES ('451100', '贺州市', 'city', NULL)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO enterprise (id, name, uscc, licence_no, region_code, is_branch,"
                " contact_name, contact_mobile, status, created_at) VALUES"
                " (1, '甲', '91451100MA5K000011', 'L1', '451100', FALSE, '张三', '13800001234',"
                "  'approved', CURRENT_TIMESTAMP)"
            )
        )
        for uid, name, role, enterprise in (
            (1, "reviewer", "reviewer", "NULL"),
            (2, "owner", "operator", "1"),
            (3, "colleague", "operator", "1"),
        ):
            connection.execute(
                text(
                    "INSERT INTO user_account (id, username, password_hash, role, jurisdiction,"
                    " display_name, enterprise_id, active, failed_login_count, token_version,"
                    f" created_at) VALUES ({uid}, '{name}', 'x', '{role}', '451100', '{name}',"
                    f" {enterprise}, TRUE, 0, 0, CURRENT_TIMESTAMP)"
                )
            )
    upgrade(scratch_url, AFTER)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT username, mobile, email, is_owner FROM user_account ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("reviewer", None, None, False),
        ("owner", "13800001234", None, True),
        ("colleague", None, None, False),
    ]
