"""Writes while anonymous clients log in: the p99 latency of a stream of small writes (an
operator editing its draft, one request at a time) with eight clients logging in without pause,
against the same stream alone, measured in the same run on a real server process (one worker).
Target: within 3 ×.

Each login costs one Argon2 verification (~0.2 s of a core); it runs outside any transaction and
at most one per core at a time in threads of lower CPU priority, so the logins queue for CPU
but never hold the write lock, and a write gets a core before a hash does.

    .venv/bin/python bench/login_contention.py [WRITES] [LOGIN_CLIENTS]
"""

import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
from _setup import approved_operator, ms, prepare_database

WRITES = int(sys.argv[1]) if len(sys.argv) > 1 else 600
LOGIN_CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
ROUNDS = 3
PASSWORD = "bench-password-1"


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 100 else max(samples)


def setup() -> tuple[list[str], int, str]:
    """Login accounts, and a draft filing with its operator's token."""
    from cli.demo import filing_content
    from core.db import session_scope
    from core.security import create_access_token
    from models.base import pk
    from models.region import Region
    from services.accounts import users as accounts
    from services.filings import actions

    with session_scope() as session:
        admin = accounts.create_user(
            session,
            username="bench-admin",
            password=PASSWORD,
            role="admin",
            jurisdiction="451100",
            display_name="bench",
        )
        usernames = [
            accounts.create_user(
                session,
                username=f"bench-login-{n}",
                password=PASSWORD,
                role="reviewer",
                jurisdiction="451102",
                display_name=f"bench {n}",
            ).username
            for n in range(LOGIN_CLIENTS)
        ]
        operator = approved_operator(session, approver=admin, password=PASSWORD)
        township = session.get(Region, "451102101")
        assert township is not None
        raw = filing_content(
            township=township,
            operator_name="基准测试",
            brand="SF",
            index=0,  # self-operated: no partner
            opened=datetime(2026, 11, 20, tzinfo=UTC),
            rng=random.Random(1),
        )
        filing = actions.create(session, operator=operator, raw=raw)
        return usernames, pk(filing), create_access_token(pk(operator))


def write_stream(base: str, filing_id: int, token: str, count: int) -> tuple[list[float], Counter]:
    """`count` PATCHes one after another: each one's latency, and the statuses."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=base, timeout=60) as http:
        for n in range(count):
            started = time.perf_counter()
            response = http.patch(
                f"/api/v1/filings/{filing_id}",
                json={"outlet": {"address": f"贺街镇河东街 {n} 号"}},
                headers={"Authorization": f"Bearer {token}"},
            )
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
    return latencies, statuses


class LoginClients:
    """`n` clients, each logging in again as soon as it has its answer, while switched on."""

    def __init__(self, base: str, usernames: list[str]) -> None:
        self.base = base
        self.on = threading.Event()
        self.done = threading.Event()
        self.in_flight = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.threads = [threading.Thread(target=self._run, args=(u,)) for u in usernames]
        for thread in self.threads:
            thread.start()

    def _run(self, username: str) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as http:
            while not self.done.is_set():
                if not self.on.wait(timeout=0.1):
                    continue
                with self.lock:
                    self.in_flight += 1
                started = time.perf_counter()
                response = http.post(
                    "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
                )
                with self.lock:
                    self.in_flight -= 1
                    self.latencies.append(time.perf_counter() - started)
                    self.statuses[response.status_code] += 1

    def start(self) -> None:
        self.on.set()
        time.sleep(1.0)  # every client has a login under way

    def pause(self) -> None:
        """Off, and wait until no login is in flight."""
        self.on.clear()
        while self.in_flight:
            time.sleep(0.05)

    def stop(self) -> None:
        self.pause()
        self.done.set()
        for thread in self.threads:
            thread.join()


def main() -> None:
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the server's change log: one line a write
    url = prepare_database()
    from _server import serve

    usernames, filing_id, token = setup()
    alone: list[float] = []
    loaded: list[float] = []
    statuses: Counter[int] = Counter()
    loaded_seconds = 0.0
    with serve(workers=1) as (host, port):
        base = f"http://{host}:{port}"
        write_stream(base, filing_id, token, 20)  # warm up
        logins = LoginClients(base, usernames)
        # Alternate the two conditions, so that whatever else the machine does falls on both.
        for _ in range(ROUNDS):
            latencies, counted = write_stream(base, filing_id, token, WRITES // ROUNDS)
            alone += latencies
            statuses += counted
            logins.start()
            started = time.perf_counter()
            latencies, counted = write_stream(base, filing_id, token, WRITES // ROUNDS)
            loaded_seconds += time.perf_counter() - started
            loaded += latencies
            statuses += counted
            logins.pause()
        logins.stop()

    database = url.split(":")[0]
    count = sum(logins.statuses.values())
    print(
        f"database: {database}  one worker, {len(alone)} writes per condition, one at a time,"
        f" in {ROUNDS} alternating rounds; write statuses {dict(statuses)}"
    )
    print(
        f"writes alone:                     median {ms(statistics.median(alone))}"
        f"  p99 {ms(p99(alone))}  max {ms(max(alone))}"
    )
    print(
        f"writes, {LOGIN_CLIENTS} clients logging in:    median {ms(statistics.median(loaded))}"
        f"  p99 {ms(p99(loaded))}  max {ms(max(loaded))}"
    )
    print(
        f"logins: {count} ({count / loaded_seconds:.1f}/s while writing), median"
        f" {ms(statistics.median(logins.latencies))}, statuses {dict(logins.statuses)}"
    )
    print(f"p99 ratio (with logins / alone): {p99(loaded) / p99(alone):.2f} (target ≤ 3)")


if __name__ == "__main__":
    main()
