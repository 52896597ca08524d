"""The oversight overview at 100k outlets, computed by SQL aggregation, against a baseline in
the same run: one GROUP BY over the 100k revisions (a single scan of the same data).

    .venv/bin/python bench/stats.py [OUTLETS] [REPEAT]
"""

import statistics
import sys

from _setup import ms, prepare_database, timed

OUTLETS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
REPEAT = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def main() -> None:
    url = prepare_database()
    from _data import populate
    from sqlalchemy import text

    from core.db import session_scope
    from services.oversight import stats

    populate(OUTLETS)
    with session_scope(for_write=False) as session:
        one_aggregate = text(
            "SELECT county_code, count(*), sum(late) FROM filing_revision GROUP BY county_code"
        )
        baseline = timed(lambda: session.execute(one_aggregate).all(), REPEAT)
        city = timed(lambda: stats.overview(session, jurisdiction="451100"), REPEAT)
        county = timed(lambda: stats.overview(session, jurisdiction="451102"), REPEAT)
        coverage = stats.overview(session, jurisdiction="451100").coverage
    base = statistics.median(baseline)
    print(f"database: {url.split(':')[0]}  outlets: {OUTLETS}  (coverage {coverage.ratio})")
    print(f"baseline, one GROUP BY over filing_revision: median {ms(base)}")
    for name, samples in (
        ("overview, whole city (451100)", city),
        ("overview, one county (451102)", county),
    ):
        median = statistics.median(samples)
        print(f"{name}: median {ms(median)}  ratio {median / base:.1f}x")


if __name__ == "__main__":
    main()
