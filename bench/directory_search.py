"""Directory text search over 100k outlets: p95 against a primary-key lookup, both through the
public HTTP API of one worker, measured in the same run. Target: search p95 ≤ 3 × lookup p95.

    .venv/bin/python bench/directory_search.py [OUTLETS[,OUTLETS…]] [REQUESTS]

Several sizes (`10000,100000`) run one after the other, each on a fresh database.
"""

import os
import random
import subprocess
import sys
import time

import httpx
from _setup import _TMP, ms, p95, prepare_database

SIZES = [int(size) for size in (sys.argv[1] if len(sys.argv) > 1 else "100000").split(",")]
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 600

# What people type: a street and number, an outlet's name, a township plus brand.
QUERIES = [
    "建设路12",
    "太白路8",
    "平安大道",
    "贺街镇",
    "信都镇",
    "快递超市",
    "灵峰北路3",
    "八达路9号",
    "昭平镇中山",
    "公会镇",
    "莲塘镇",
    "西环路1",
]
SHORT_QUERIES = ["贺街", "黄田", "中山", "钟山"]  # two characters: below a trigram


def timed_get(http: httpx.Client, paths: list[str], count: int) -> list[float]:
    rng = random.Random(3)
    samples = []
    for _ in range(count):
        path = paths[rng.randrange(len(paths))]
        started = time.perf_counter()
        response = http.get(path)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


def run(outlets: int) -> None:
    url = prepare_database()
    from _data import populate
    from _server import serve

    receipt_nos = populate(outlets)
    lookups = [f"/api/v1/public/receipts/{no}" for no in random.Random(1).sample(receipt_nos, 2000)]
    searches = [f"/api/v1/public/outlets?q={q}" for q in QUERIES]
    county = [f"/api/v1/public/outlets?q={q}&county=451102" for q in QUERIES]
    filtered = [f"/api/v1/public/outlets?q={q}&county=451102&brand=SF" for q in QUERIES]
    shorts = [f"/api/v1/public/outlets?q={q}" for q in SHORT_QUERIES]
    with serve(workers=1) as (host, port), httpx.Client(base_url=f"http://{host}:{port}") as http:
        timed_get(http, lookups + searches + county + filtered + shorts, 100)  # warm up
        base = timed_get(http, lookups, REQUESTS)
        results = {
            "text search (≥3 characters)": timed_get(http, searches, REQUESTS),
            "text search + county": timed_get(http, county, REQUESTS),
            "text search + county + brand": timed_get(http, filtered, REQUESTS),
            "text search (2 characters)": timed_get(http, shorts, REQUESTS // 3),
        }
    print(f"database: {url.split(':')[0]}  outlets: {outlets}  one worker, sequential requests")
    print(f"{'primary-key lookup (receipt)':<34} p95 {ms(p95(base))}")
    for name, samples in results.items():
        print(f"{name:<34} p95 {ms(p95(samples))}  ratio {p95(samples) / p95(base):.2f}")


def main() -> None:
    if len(SIZES) == 1:
        run(SIZES[0])
        return
    env = dict(os.environ)
    if env.get("DATA_DIR") == str(_TMP):  # ours, not the caller's: each size gets its own
        del env["DATA_DIR"]
    for size in SIZES:  # a process each: a fresh database per size
        subprocess.run([sys.executable, __file__, str(size), str(REQUESTS)], check=True, env=env)


if __name__ == "__main__":
    main()
