"""The draw at scale: 5 % of 10k, 100k and 1,000,000 candidates, with teams for every object.

First the pure draw (`domain.draw`): times and the growth ratio (time per candidate relative to
the smallest run). A linear algorithm keeps the ratio near 1; the textbook scan for the k-th
unpicked (quadratic) is timed on 10k and 100k as the baseline in the same run.

Then the draw through the service on a database (SQLite, or BENCH_DATABASE_URL): an announced
plan whose frozen frame holds N candidates (filings and their revisions written in bulk, the
plan's strata JSON built directly), drawn by `services.inspections.draws.run_draw` at 5 % with
teams of 2 from 200 inspectors, timed from the call to the commit, and its ratio to the pure
draw of the same size in this run; the plan's load (its frame is JSON in the row) is shown
apart. Then the worker expands the draw's notice batch (notices per second). `--announce` also
times announcing a plan over the N filings through the service (`plans.announce`).

    .venv/bin/python bench/draw.py                       # 10k, 100k, 1M
    .venv/bin/python bench/draw.py 10000 100000 --announce
"""

import argparse
import hashlib
import time
from datetime import UTC, date, datetime
from typing import Any

from _setup import prepare_database  # first: the import path, DATA_DIR, DATABASE_URL

from domain import draw

KEY = draw.key_string([[4, 7, 2], [3, 9, 15, 21, 28, 33]])


def naive_select(key: str, population: int, picks: int) -> list[int]:
    unpicked = list(range(population))
    chosen = []
    for i in range(picks):
        counter = i.to_bytes(2, "big")
        value = int.from_bytes(hashlib.md5(counter + key.encode() + counter).digest(), "big")
        chosen.append(unpicked.pop(value % len(unpicked)))
    return chosen


def run(candidates: int) -> tuple[float, float]:
    numbers = [f"451102-2026-{i:07d}" for i in range(candidates)]
    started = time.perf_counter()
    strata = draw.draw_objects(KEY, [draw.Stratum("low", "0.05", numbers)])
    picked = time.perf_counter() - started
    pool = [
        draw.PoolMember(f"ZF{i:06d}", frozenset({"X"} if i % 7 == 0 else set())) for i in range(200)
    ]
    objects = [(number, "X" if n % 3 == 0 else "Y") for n, number in enumerate(strata[0].selected)]
    started = time.perf_counter()
    draw.draw_teams(KEY, objects, pool, 2)
    return picked, time.perf_counter() - started


def pure(sizes: list[int]) -> dict[int, float]:
    """The pure draw of each size; its objects + teams time by size."""
    base = None
    totals: dict[int, float] = {}
    header = ("candidates", "objects", "objects time", "teams time", "growth ratio")
    print(" ".join(f"{title:>13}" for title in header))
    for candidates in sizes:
        picked, teams = run(candidates)
        totals[candidates] = picked + teams
        per_candidate = picked / candidates
        base = base or per_candidate
        print(
            f"{candidates:>10} {candidates // 20:>8} {picked:>12.3f}s {teams:>10.3f}s "
            f"{per_candidate / base:>13.2f}"
        )
    for candidates in (10_000, 100_000):
        started = time.perf_counter()
        naive_select(KEY, candidates, candidates // 20)
        print(f"textbook scan, {candidates} candidates: {time.perf_counter() - started:.3f}s")
    return totals


# --- through the service, on a database ---------------------------------------------------

COUNTY = "451102"
INSPECTORS = 200


def populate(largest: int) -> dict[str, Any]:
    """Eight approved enterprises with an operator each, 200 inspectors with logins (every
    seventh with a conflict with the first enterprise), an admin, and `largest` filed outlets
    with their revisions in force (multi-row inserts)."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from core.db import session_scope
    from models import Enterprise, Filing, FilingRevision, Inspector, Region, User
    from models.base import pk, table_of

    now = datetime.now(UTC)
    with session_scope() as session:
        township = session.exec(
            select(Region.code).where(col(Region.parent_code) == COUNTY).order_by(Region.code)
        ).first()
        assert township is not None
        admin = User(
            username="bench-admin",
            password_hash="x",
            role="admin",
            jurisdiction=COUNTY,
            display_name="基准管理员",
        )
        session.add(admin)
        enterprises = []
        for n in range(8):
            enterprise = Enterprise(
                name=f"基准快递{n}有限公司",
                uscc=f"91451100BENCH{n:04d}X",
                licence_no=f"桂邮{n}",
                region_code=COUNTY,
                contact_name="x",
                contact_mobile="13800000000",
                status="approved",
            )
            session.add(enterprise)
            session.flush()
            enterprises.append((pk(enterprise), enterprise.uscc))
            session.add(
                User(
                    username=f"bench-op-{n}",
                    password_hash="x",
                    role="operator",
                    jurisdiction=COUNTY,
                    display_name=f"操作员{n}",
                    enterprise_id=pk(enterprise),
                    is_owner=True,
                )
            )
        pool = []
        for n in range(INSPECTORS):
            user = User(
                username=f"bench-inspector-{n}",
                password_hash="x",
                role="inspector",
                jurisdiction=COUNTY,
                display_name=f"检查员{n}",
            )
            session.add(user)
            session.flush()
            conflicts = [enterprises[0][1]] if n % 7 == 0 else []
            inspector = Inspector(
                name=f"检查员{n}",
                certificate_no=f"ZF{n:06d}",
                jurisdiction=COUNTY,
                conflicts=conflicts,
                user_id=pk(user),
            )
            session.add(inspector)
            session.flush()
            pool.append(
                {
                    "certificate_no": inspector.certificate_no,
                    "inspector_id": pk(inspector),
                    "conflicts": conflicts,
                }
            )
        admin_id = pk(admin)
    candidates = []
    batch = 20_000
    for start in range(0, largest, batch):
        filings, revisions = [], []
        for i in range(start, min(start + batch, largest)):
            fid = i + 1
            enterprise_id, uscc = enterprises[i % len(enterprises)]
            filing_no = f"{COUNTY}-2026-{fid:07d}"
            name, address = f"基准网点{fid}", f"八步区基准路{fid}号"
            filings.append(
                {
                    "id": fid,
                    "enterprise_id": enterprise_id,
                    "status": "filed",
                    "filing_no": filing_no,
                    "county_code": COUNTY,
                    "township_code": township,
                    "current_revision_id": fid,
                    "risk_override": "low",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            revisions.append(
                {
                    "id": fid,
                    "filing_id": fid,
                    "number": 1,
                    "status": "filed",
                    "outlet": {"name": name},
                    "person_in_charge": {"name": "王五"},
                    "outlet_name": name,
                    "address": address,
                    "county_code": COUNTY,
                    "township_code": township,
                    "opened_on": date(2025, 1, 1),
                    "late": False,
                    "corrections": [],
                    "return_count": 0,
                    "created_at": now,
                    "decided_at": now,
                }
            )
            candidates.append(
                {"filing_no": filing_no, "filing_id": fid, "uscc": uscc, "risk": "low"}
            )
        with session_scope() as session:
            session.execute(insert(table_of(Filing)), filings)
            session.execute(insert(table_of(FilingRevision)), revisions)
    return {"admin_id": admin_id, "pool": pool, "candidates": candidates}


def announced_plan(world: dict[str, Any], size: int) -> int:
    """An announced plan whose frozen frame is the first `size` filings: one stratum at 5 %."""
    from core.db import session_scope
    from models import InspectionPlan
    from models.base import pk

    with session_scope() as session:
        plan = InspectionPlan(
            name=f"基准抽查 {size}",
            region_code=COUNTY,
            item_codes=["real_name"],
            sampling={"mode": "rate", "rates": {"high": "0.05", "low": "0.05", "medium": "0.05"}},
            team_size=2,
            exclude_recent_days=0,
            period_start=date(2026, 12, 1),
            period_end=date(2026, 12, 31),
            randomness_sources="基准",
            status="announced",
            created_by_id=world["admin_id"],
            announced_at=datetime.now(UTC),
            digest="0" * 64,
            strata=[{"label": "low", "rate": "0.05", "candidates": world["candidates"][:size]}],
            pool=world["pool"],
        )
        session.add(plan)
        session.flush()
        return pk(plan)


def service_draw(world: dict[str, Any], size: int) -> tuple[float, float, float, int]:
    """(plan load, run_draw to commit, expansion seconds, notices expanded) for one plan."""
    from sqlmodel import select

    from core.db import session_scope
    from models import InspectionPlan, User
    from services.inspections import draws
    from services.notifications import batches

    plan_id = announced_plan(world, size)
    with session_scope() as session:
        started = time.perf_counter()
        plan = session.exec(
            select(InspectionPlan).where(InspectionPlan.id == plan_id).with_for_update()
        ).one()
        admin = session.get(User, world["admin_id"])
        assert admin is not None
        loaded = time.perf_counter()
        draws.run_draw(session, plan, admin=admin, sources=[[4, 7, 2], [3, 9, 15, 21, 28, 33]])
    committed = time.perf_counter()
    notices = batches.expand()
    expanded = time.perf_counter()
    return loaded - started, committed - loaded, expanded - committed, notices


def timed_announce(world: dict[str, Any], size: int) -> float:
    """Announcing a plan over the first `size` filings through the service, to its commit."""
    from sqlmodel import col, update

    from core.db import session_scope
    from models import Filing, User
    from schemas.inspections import PlanCreate
    from services.inspections import plans

    with session_scope() as session:  # only the first `size` filings are filed
        session.execute(update(Filing).where(col(Filing.id) > size).values(status="closed"))
        session.execute(update(Filing).where(col(Filing.id) <= size).values(status="filed"))
    with session_scope() as session:
        admin = session.get(User, world["admin_id"])
        assert admin is not None
        body = PlanCreate.model_validate(
            {
                "name": f"公示基准 {size}",
                "region_code": COUNTY,
                "item_codes": ["real_name"],
                "sampling": {"mode": "rate", "rates": {"high": "1", "low": "0.05", "medium": "1"}},
                "team_size": 2,
                "exclude_recent_days": 0,
                "period_start": "2026-12-01",
                "period_end": "2026-12-31",
                "randomness_sources": "基准",
            }
        )
        plan = plans.create_plan(session, admin=admin, body=body)
        started = time.perf_counter()
        plans.announce(session, plan, admin=admin)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--announce", action="store_true", help="also time plans.announce")
    parser.add_argument("--pure-only", action="store_true", help="only the pure draw")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    totals = pure(sizes)
    if args.pure_only:
        return
    url = prepare_database()
    print(f"\nthrough the service on {url.split('://')[0]}: 5 %, teams of 2 from {INSPECTORS}")
    started = time.perf_counter()
    world = populate(sizes[-1])
    print(f"(loaded {sizes[-1]} filings in {time.perf_counter() - started:.1f}s)")
    header = ("candidates", "plan load", "draw+commit", "vs pure", "notices", "expansion")
    print(" ".join(f"{title:>12}" for title in header))
    for size in sizes:
        load, drawn, expansion, notices = service_draw(world, size)
        print(
            f"{size:>12} {load:>11.3f}s {drawn:>11.3f}s {drawn / totals[size]:>11.2f}x "
            f"{notices:>12} {notices / expansion:>8.0f}/s"
        )
    if args.announce:
        for size in sizes:
            print(f"announce over {size} filings (to commit): {timed_announce(world, size):.3f}s")


if __name__ == "__main__":
    main()
