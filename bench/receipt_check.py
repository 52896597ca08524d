"""Public receipt check throughput with 100k receipts, one worker, against a constant-JSON
endpoint of the same app (`/healthz`) measured in the same run. Target ratio ≥ 0.5.

    .venv/bin/python bench/receipt_check.py [RECEIPTS] [SECONDS]
"""

import random
import statistics
import sys

from _setup import ms, p95, prepare_database

RECEIPTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
CONNECTIONS = 32


def main() -> None:
    url = prepare_database()
    from _data import populate
    from _load import run
    from _server import serve

    receipt_nos = populate(RECEIPTS)
    sample = random.Random(1).sample(receipt_nos, min(5000, len(receipt_nos)))
    with serve(workers=1) as (host, port):
        run(host, port, ["/healthz"], seconds=1, connections=CONNECTIONS)  # warm up
        baseline = run(host, port, ["/healthz"], seconds=SECONDS, connections=CONNECTIONS)
        cold = run(
            host,
            port,
            [f"/api/v1/public/receipts/{no}" for no in sample],
            seconds=SECONDS,
            connections=CONNECTIONS,
        )
        check = run(
            host,
            port,
            [f"/api/v1/public/receipts/{no}" for no in sample],
            seconds=SECONDS,
            connections=CONNECTIONS,
        )
        page = run(
            host, port, [f"/verify/{no}" for no in sample], seconds=SECONDS, connections=CONNECTIONS
        )
    database = url.split(":")[0]
    print(f"database: {database}  receipts: {RECEIPTS}  one worker, {CONNECTIONS} connections")
    for name, result in (
        ("constant JSON /healthz", baseline),
        ("check, first sight (cold)", cold),
        ("check, cached (warm)", check),
        ("verify page /verify/…", page),
    ):
        median = ms(statistics.median(result["latencies"]))
        print(
            f"{name:<26} {result['rps']:8.0f} req/s  median {median}"
            f"  p95 {ms(p95(result['latencies']))}  ratio {result['rps'] / baseline['rps']:.2f}"
        )


if __name__ == "__main__":
    main()
