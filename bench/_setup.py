"""Shared set-up for benchmarks: a throw-away database (SQLite by default, or BENCH_DATABASE_URL)
migrated with the real migrations, and small helpers for timing."""

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.user import User

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TMP = Path(tempfile.mkdtemp(prefix="outlet-filing-bench-"))
os.environ.setdefault("DATA_DIR", str(_TMP))
if os.environ.get("BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]


def prepare_database() -> str:
    """Migrates an empty database and loads the regions; returns its URL."""
    from sqlalchemy import text

    from core.config import get_settings
    from core.db import get_engine, session_scope
    from core.migrate import upgrade
    from services.reference import regions

    url = get_settings().sqlalchemy_url
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    with session_scope() as session:
        regions.load_regions(session, regions.read_regions_csv(regions.DEFAULT_REGIONS_FILE))
    return url


def timed(func: Callable[[], object], repeat: int) -> list[float]:
    """Seconds per call, `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def approved_operator(session: "Session", *, approver: "User", password: str) -> "User":
    """The benchmarks' courier enterprise in 八步区, registered and approved; its operator."""
    from sqlmodel import select

    from cli.demo import demo_uscc
    from models.user import User
    from services.accounts import enterprises

    enterprise = enterprises.register(
        session,
        name="基准测试快递有限公司",
        uscc=demo_uscc(90001),
        licence_no="桂邮1",
        region_code="451102",
        is_branch=False,
        contact_name="基准",
        contact_mobile="13800000000",
        username="bench-operator",
        password=password,
    )
    enterprises.approve(session, enterprise, approver=approver)
    return session.exec(select(User).where(User.username == "bench-operator")).one()
