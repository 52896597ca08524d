"""The directory page (`/outlets`, HTML) against the JSON directory (`/api/v1/public/outlets`):
p95 of the same queries over the same data, through one worker, in the same run.
Target: page p95 ≤ 2 × JSON p95.

    .venv/bin/python bench/directory_page.py [OUTLETS] [REQUESTS]
    .venv/bin/python bench/directory_page.py --large      # 100,000 outlets
"""

import random
import sys
import time
from urllib.parse import urlencode

import httpx
from _setup import ms, p95, prepare_database

ARGS = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
OUTLETS = 100_000 if "--large" in sys.argv else int(ARGS[0]) if ARGS else 3_000
REQUESTS = int(ARGS[1]) if len(ARGS) > 1 else 400
TARGET = 2.0

# What people ask the directory: a word, a word in a county, a brand in a county, a page on.
QUERIES: list[dict[str, str | int]] = [
    {"q": "快递超市"},
    {"q": "建设路"},
    {"q": "贺街镇"},
    {"q": "驿站", "county": "451102"},
    {"county": "451102", "brand": "SF"},
    {"county": "451121", "township": "451121100"},
    {"q": "服务站", "county": "451103", "brand": "ZTO"},
    {},
    {"page": 3},
]


def json_path(query: dict[str, str | int]) -> str:
    """The same query through the API (a page number becomes its offset)."""
    params = {key: value for key, value in query.items() if key != "page"}
    page = int(query.get("page", 1))
    params.update({"limit": 20, "offset": (page - 1) * 20})
    return "/api/v1/public/outlets?" + urlencode(params)


def page_path(query: dict[str, str | int]) -> str:
    return "/outlets" + ("?" + urlencode(query) if query else "")


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


def main() -> None:
    url = prepare_database()
    from _data import populate
    from _server import serve

    populate(OUTLETS)
    pages = [page_path(query) for query in QUERIES]
    apis = [json_path(query) for query in QUERIES]
    with serve(workers=1) as (host, port), httpx.Client(base_url=f"http://{host}:{port}") as http:
        timed_get(http, pages + apis, 100)  # warm up
        # Interleaved rounds, so a slow moment of the machine hits both alike.
        api_samples: list[float] = []
        page_samples: list[float] = []
        for _ in range(4):
            api_samples += timed_get(http, apis, REQUESTS // 4)
            page_samples += timed_get(http, pages, REQUESTS // 4)
    ratio = p95(page_samples) / p95(api_samples)
    print(f"database: {url.split(':')[0]}  outlets: {OUTLETS}  one worker, sequential requests")
    print(f"{'JSON directory (/api/v1/public/outlets)':<42} p95 {ms(p95(api_samples))}")
    print(f"{'directory page (/outlets, HTML)':<42} p95 {ms(p95(page_samples))}")
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"ratio page / JSON: {ratio:.2f} (target ≤ {TARGET:.0f}×: {verdict})")


if __name__ == "__main__":
    main()
