"""The draw as a pure function: RFC 3797, strata, teams, verification."""

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from domain import draw

RFC_KEY = "9319./2.5.8.10.12./9.18.26.34.41.45./"


def test_rfc3797_reference_vector() -> None:
    picks = [position + 1 for position in draw.select(RFC_KEY, 25, 16)]
    assert picks == [17, 7, 2, 16, 25, 23, 8, 24, 19, 13, 22, 5, 18, 9, 1, 4]


def test_key_string_sorts_values_within_each_source() -> None:
    assert draw.key_string([[9319], [2, 5, 12, 8, 10]]) == "9319./2.5.8.10.12./"
    assert draw.key_string([[9319], [2, 5, 12, 8, 10], [9, 18, 26, 34, 41, 45]]) == RFC_KEY


def test_negative_source_values_are_refused() -> None:
    with pytest.raises(draw.DrawError):
        draw.key_string([[1, -2]])


def _naive(key: str, population: int, picks: int) -> list[int]:
    """The textbook scan for the k-th unpicked (quadratic), as a reference."""
    import hashlib

    unpicked = list(range(population))
    chosen = []
    for i in range(picks):
        counter = i.to_bytes(2, "big")
        value = int.from_bytes(hashlib.md5(counter + key.encode() + counter).digest(), "big")
        chosen.append(unpicked.pop(value % len(unpicked)))
    return chosen


@pytest.mark.parametrize("population", [1, 2, 3, 7, 64, 100, 1000, 4097])
def test_fenwick_selection_equals_the_textbook_scan(population: int) -> None:
    key = f"{population}./1.2.3./"
    picks = min(population, 37)
    assert draw.select(key, population, picks) == _naive(key, population, picks)


def test_every_position_is_picked_once_when_all_are_drawn() -> None:
    assert sorted(draw.select("1./", 500, 500)) == list(range(500))


def test_more_than_65536_picks_is_refused() -> None:
    with pytest.raises(draw.DrawError) as error:
        draw.select("1./", 70_000, 65_537)
    assert error.value.code == "validation_error"


@pytest.mark.parametrize(
    ("n", "rate", "k"),
    [
        (21, "0.05", 2),
        (20, "0.05", 1),
        (10, "0.1", 1),
        (11, "0.1", 2),
        (7, "0", 0),
        (3, "0.3", 1),
        (0, "0.3", 0),
        (9, "1", 9),
    ],
)
def test_stratum_size_is_the_exact_ceiling(n: int, rate: str, k: int) -> None:
    assert draw.stratum_size(n, Decimal(rate)) == k


def test_rate_mode_strata_use_their_own_keys() -> None:
    strata = [
        draw.Stratum("high", "0.5", [f"H{i:02d}" for i in range(4)]),
        draw.Stratum("low", "0.1", [f"L{i:02d}" for i in range(30)]),
        draw.Stratum("medium", "0", [f"M{i:02d}" for i in range(5)]),
    ]
    draw.draw_objects("1./2./", strata)
    assert [len(s.selected) for s in strata] == [2, 3, 0]
    high = draw.select("1./2./1./", 4, 2)
    assert strata[0].selected == [f"H{p:02d}" for p in high]
    low = draw.select("1./2./2./", 30, 3)
    assert strata[1].selected == [f"L{p:02d}" for p in low]


def _pool(size: int, conflicts: dict[int, set[str]] | None = None) -> list[draw.PoolMember]:
    conflicts = conflicts or {}
    return [draw.PoolMember(f"C{i:03d}", frozenset(conflicts.get(i, set()))) for i in range(size)]


def test_conflicted_inspector_is_never_assigned_nor_eligible() -> None:
    # Every object goes through team selection; C000 is conflicted with A, C003 with B.
    objects = [(f"F{i}", "USCC-A" if i % 2 else "USCC-B") for i in range(40)]
    pool = _pool(5, {0: {"USCC-A"}, 3: {"USCC-B"}})
    assignments = draw.draw_teams("7./", objects, pool, 2)
    assert len(assignments) == 40
    for assignment, (_, uscc) in zip(assignments, objects, strict=True):
        conflicted = "C000" if uscc == "USCC-A" else "C003"
        assert conflicted not in assignment.team
        assert conflicted not in assignment.eligible


def test_every_team_has_the_team_size_of_distinct_members() -> None:
    for assignment in draw.draw_teams("9./", [(f"F{i}", "X") for i in range(25)], _pool(6), 3):
        assert len(assignment.team) == 3 == len(set(assignment.team))


def test_cap_balances_the_load() -> None:
    # 12 objects × 2 / 5 inspectors: cap 5. Each eligible list holds exactly those under the cap
    # (unless fewer than a team are left, when the cap is dropped).
    pool = _pool(5)
    assignments = draw.draw_teams("3./", [(f"F{i}", "X") for i in range(12)], pool, 2)
    load = {member.certificate_no: 0 for member in pool}
    for assignment in assignments:
        under_cap = [c for c, n in sorted(load.items()) if n < 5]
        expected = under_cap if len(under_cap) >= 2 else sorted(load)
        assert assignment.eligible == expected
        for member in assignment.team:
            load[member] += 1
    assert sorted(load.values()) == [4, 5, 5, 5, 5]


def test_cap_is_dropped_when_conflicts_leave_too_few() -> None:
    # 3 objects of operator X; only C000 and C001 are free of X; cap is ceil(3*2/3) = 2.
    pool = _pool(3, {2: {"X"}})
    assignments = draw.draw_teams("5./", [("F1", "X"), ("F2", "X"), ("F3", "X")], pool, 2)
    assert sorted(assignments[2].team) == ["C000", "C001"]
    assert assignments[2].eligible == ["C000", "C001"]  # both already at the cap of 2


def test_not_enough_inspectors_fails() -> None:
    with pytest.raises(draw.DrawError) as error:
        draw.draw_teams("5./", [("F1", "X")], _pool(3, {0: {"X"}, 1: {"X"}}), 2)
    assert error.value.code == "not_enough_inspectors"


def _published_plan() -> dict[str, Any]:
    strata: list[dict[str, Any]] = [
        {
            "label": "high",
            "rate": "0.5",
            "candidates": ["451102-2026-000001", "451102-2026-000002"],
        },
        {
            "label": "low",
            "rate": "0.2",
            "candidates": [f"451102-2026-{i:06d}" for i in range(3, 13)],
        },
        {"label": "medium", "rate": "0", "candidates": []},
    ]
    plan: dict[str, Any] = {
        "id": 1,
        "name": "t",
        "region_code": "451102",
        "item_codes": ["real_name"],
        "sampling": {"mode": "rate", "rates": {"high": "0.5", "low": "0.2", "medium": "0"}},
        "team_size": 2,
        "exclude_recent_days": 365,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "randomness_sources": "福彩3D",
        "strata": strata,
        "pool": ["A001", "A002", "A003", "A004"],
    }
    plan["digest"] = draw.digest(draw.announcement_of(plan))
    sources = [[9319], [2, 5, 8, 10, 12]]
    key = draw.key_string(sources)
    computed = [draw.Stratum(s["label"], s["rate"], s["candidates"]) for s in strata]
    draw.draw_objects(key, computed)
    for stored, result in zip(strata, computed, strict=True):
        stored["selected"] = result.selected
    objects = [(no, "X") for s in computed for no in s.selected]
    teams = draw.draw_teams(key, objects, [draw.PoolMember(c) for c in plan["pool"]], 2)
    plan.update(
        sources=sources,
        key_string=key,
        assignments=[
            {"m": a.m, "filing_no": a.filing_no, "eligible": a.eligible, "team": a.team}
            for a in teams
        ],
    )
    return plan


def test_verification_of_an_untouched_publication() -> None:
    report = draw.verify(_published_plan())
    assert report.verified, report.problems


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p["strata"][1]["selected"].reverse(),
        lambda p: p["assignments"][0]["team"].reverse(),
        lambda p: p["strata"][1]["candidates"].append("451102-2026-999999"),
        lambda p: p["sources"][0].__setitem__(0, 9318),
        lambda p: p["pool"].append("Z999"),
    ],
)
def test_verification_fails_on_a_tampered_publication(
    tamper: Callable[[dict[str, Any]], object],
) -> None:
    plan = copy.deepcopy(_published_plan())
    tamper(plan)
    assert draw.verify(plan).verified is False


def test_selection_is_uniform_enough() -> None:
    counts = [0] * 10
    for seed in range(2000):
        counts[draw.select(f"{seed}./", 10, 1)[0]] += 1
    assert min(counts) > 140  # expected 200 each
