"""The draw at scale: 5 % of 10k, 100k and 1,000,000 candidates, with teams for every object.
Prints times and the growth ratio (time per candidate relative to the 10k run). A linear
algorithm keeps the ratio near 1; the textbook scan for the k-th unpicked (quadratic) is
timed on 10k and 100k as the baseline in the same run.

    .venv/bin/python bench/draw.py
"""

import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def main() -> None:
    base = None
    header = ("candidates", "objects", "objects time", "teams time", "growth ratio")
    print(" ".join(f"{title:>13}" for title in header))
    for candidates in (10_000, 100_000, 1_000_000):
        picked, teams = run(candidates)
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


if __name__ == "__main__":
    main()
