"""How cost grows with the number of outlets: each SPEC §7 / issue 14 ratio at several sizes,
each size on a fresh database filled by `outlet-filing seed-bulk` (cli.bulk), all measured in
one run against baselines of the same run.

    .venv/bin/python bench/scale.py [SIZES] [SECONDS]     e.g. 10000,100000 5
    BENCH_DATABASE_URL=postgresql+psycopg://…/db .venv/bin/python bench/scale.py 10000,1000000

For each size it prints one line per measure (and a JSON line at the end for tables):
- receipt check, one worker: warm req/s ÷ constant JSON (`/healthz`) req/s (target ≥ 0.5);
- receipt check, two workers ÷ one worker, warm req/s (target ≥ 1.7; the load generator
  shares the two cores);
- directory text search p95 ÷ key lookup p95 (the public receipt check, sequential requests),
  text alone, with county, with county and brand, two characters (target ≤ 3);
- a county reviewer's filtered queue (`GET /filings?queue=true&county=…&brand=…`) p95 ÷ key
  lookup p95 (target ≤ 3);
- the whole city's overview (`stats.overview`), median seconds (target ≤ 1 s);
- acceptances per second through HTTP with 1 and 2 workers (report).
The draw has its own script (`bench/draw.py`), which builds frames of these sizes.
"""

import json
import os
import random
import statistics
import sys
import threading
import time
from typing import Any

import httpx
from _setup import ms, p95, prepare_database

SIZES = [int(size) for size in (sys.argv[1] if len(sys.argv) > 1 else "10000,100000").split(",")]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
CONNECTIONS = 32
SEQUENTIAL = 300  # requests per latency measure

QUERIES = ["建设路1", "太白路", "平安大道", "快递超市", "驿站", "中山路", "八步", "鹅塘"]
SHORT_QUERIES = ["贺街", "黄田", "中山", "钟山"]


def timed_get(http: httpx.Client, paths: list[str], count: int, headers: Any = None) -> list[float]:
    rng = random.Random(3)
    samples = []
    for _ in range(count):
        path = paths[rng.randrange(len(paths))]
        started = time.perf_counter()
        response = http.get(path, headers=headers)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


def _tokens() -> dict[str, str]:
    from sqlmodel import select

    from core.db import session_scope
    from core.security import create_access_token
    from models.base import pk
    from models.user import User

    with session_scope(for_write=False) as session:
        users = session.exec(select(User).where(User.username.startswith("bulk_"))).all()
        return {user.username: create_access_token(pk(user), user.token_version) for user in users}


def _submitted(limit: int) -> list[int]:
    from sqlmodel import col, select

    from core.db import session_scope
    from models.filing import Filing

    with session_scope(for_write=False) as session:
        found = session.exec(
            select(col(Filing.id))
            .where(Filing.status == "submitted")
            .order_by(col(Filing.id))
            .limit(limit)
        ).all()
        return [filing_id for filing_id in found if filing_id is not None]


def _accepts_per_second(base_url: str, token: str, ids: list[int], seconds: float) -> dict:
    """Acceptances through HTTP from 8 client threads until `seconds` pass or ids run out."""
    pending = list(ids)
    lock = threading.Lock()
    done: list[float] = []
    refused: list[int] = []
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            while time.perf_counter() < stop_at:
                with lock:
                    if not pending:
                        return
                    filing_id = pending.pop()
                started = time.perf_counter()
                response = http.post(
                    f"/api/v1/filings/{filing_id}/review",
                    json={"decision": "accept"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                if response.status_code == 200:
                    done.append(time.perf_counter() - started)
                else:
                    refused.append(response.status_code)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"accepted": len(done), "per_second": len(done) / elapsed, "refused": len(refused)}


def _fresh_sqlite_file() -> None:
    """prepare_database drops PostgreSQL's schema; a SQLite file of an earlier size goes here."""
    from pathlib import Path

    from core.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "sqlite" and engine.url.database:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)


def run(outlets: int) -> dict[str, Any]:
    _fresh_sqlite_file()
    url = prepare_database()
    from _load import run as load
    from _load import run_processes
    from _server import serve
    from sqlalchemy import text

    from cli.bulk import receipt_numbers, seed_bulk
    from core.db import get_engine, session_scope
    from services.oversight import stats

    engine = get_engine()
    report = seed_bulk(engine, outlets)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()
    valid = receipt_numbers(engine, limit=20_000)
    sample = random.Random(1).sample(valid, min(5000, len(valid)))
    checks = [f"/api/v1/public/receipts/{no}" for no in sample]
    tokens = _tokens()
    county_reviewer = {"Authorization": f"Bearer {tokens['bulk_reviewer_451102']}"}
    result: dict[str, Any] = {
        "database": url.split(":")[0].split("+")[0],
        "outlets": outlets,
        "seed_seconds": round(report.seconds, 1),
    }

    with serve(workers=1) as (host, port):
        load(host, port, ["/healthz"], seconds=1, connections=CONNECTIONS)
        constant = load(host, port, ["/healthz"], seconds=SECONDS, connections=CONNECTIONS)
        load(host, port, checks, seconds=SECONDS, connections=CONNECTIONS)  # first sight
        warm = load(host, port, checks, seconds=SECONDS, connections=CONNECTIONS)
        result["receipt_check_ratio"] = warm["rps"] / constant["rps"]
        result["receipt_check_rps_1w"] = warm["rps"]
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as http:
            searches = {
                "text": [f"/api/v1/public/outlets?q={q}" for q in QUERIES],
                "text_county": [f"/api/v1/public/outlets?q={q}&county=451102" for q in QUERIES],
                "text_county_brand": [
                    f"/api/v1/public/outlets?q={q}&county=451102&brand=SF" for q in QUERIES
                ],
                "two_characters": [f"/api/v1/public/outlets?q={q}" for q in SHORT_QUERIES],
            }
            queue = [
                f"/api/v1/filings?queue=true&county=451102&brand={brand}"
                for brand in ("SF", "ZTO", "YTO", "STO", "YD")
            ] + ["/api/v1/filings?queue=true&county=451102", "/api/v1/filings?status=returned"]
            every = checks + [p for paths in searches.values() for p in paths]
            timed_get(http, every, 100)
            timed_get(http, queue, 20, county_reviewer)
            key = p95(timed_get(http, checks, SEQUENTIAL))
            result["key_lookup_p95_ms"] = key * 1000
            for name, paths in searches.items():
                result[f"search_{name}_ratio"] = p95(timed_get(http, paths, SEQUENTIAL)) / key
            result["queue_ratio"] = p95(timed_get(http, queue, SEQUENTIAL, county_reviewer)) / key

    # One worker against two, each loaded from two client processes (one cannot keep two
    # workers busy); server and clients share the machine's two cores.
    rates = {}
    for workers in (1, 2):
        with serve(workers=workers) as (host, port):
            load(host, port, checks, seconds=SECONDS, connections=CONNECTIONS)  # warm up
            rates[workers] = run_processes(
                host, port, checks, seconds=SECONDS, connections=CONNECTIONS, processes=2
            )["rps"]
    result["receipt_check_rps_2w"] = rates[2]
    result["two_workers_ratio"] = rates[2] / rates[1]

    with session_scope(for_write=False) as session:
        stats.overview(session, jurisdiction="451100")
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            stats.overview(session, jurisdiction="451100")
            samples.append(time.perf_counter() - started)
        result["city_overview_s"] = statistics.median(samples)

    submitted = _submitted(4000)
    half = len(submitted) // 2
    for workers, ids in ((1, submitted[:half]), (2, submitted[half:])):
        with serve(workers=workers) as (host, port):
            accepted = _accepts_per_second(
                f"http://{host}:{port}", tokens["bulk_reviewer"], ids, SECONDS
            )
        result[f"accepts_per_s_{workers}w"] = accepted["per_second"]
        result[f"accepts_refused_{workers}w"] = accepted["refused"]
    return result


def main() -> None:
    results = []
    for outlets in SIZES:
        result = run(outlets)
        results.append(result)
        print(
            f"\n== {result['database']}, {outlets} outlets (seeded in {result['seed_seconds']} s)"
        )
        print(f"  receipt check warm / constant JSON      {result['receipt_check_ratio']:.2f}")
        print(f"  receipt check 2 workers / 1 worker      {result['two_workers_ratio']:.2f}")
        print(f"  key lookup p95                          {ms(result['key_lookup_p95_ms'] / 1000)}")
        for name in ("text", "text_county", "text_county_brand", "two_characters"):
            print(f"  search {name:<20} p95 / key p95     {result[f'search_{name}_ratio']:.2f}")
        print(f"  reviewer queue p95 / key p95            {result['queue_ratio']:.2f}")
        print(f"  city overview                           {result['city_overview_s']:.3f} s")
        print(
            f"  accepts/s 1 worker {result['accepts_per_s_1w']:.1f}, "
            f"2 workers {result['accepts_per_s_2w']:.1f} "
            f"(refused {result['accepts_refused_1w']}/{result['accepts_refused_2w']})"
        )
        sys.stdout.flush()
    print("\nJSON " + json.dumps(results, ensure_ascii=False))
    os.environ.pop("DATABASE_URL", None)


if __name__ == "__main__":
    main()
