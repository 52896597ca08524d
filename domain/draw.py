"""The publicly verifiable random draw (SPEC §6), pure: no database, no clock, no I/O.

Both the service and `outlet-filing verify-draw` use this module, so a third party re-running
the published data gets the service's answer or a mismatch. Selection follows RFC 3797: pick i
hashes MD5(i as 2 bytes big-endian + key + i as 2 bytes), reads it as an unsigned big-endian
integer, takes it modulo the number still unpicked and takes that position among the unpicked
in list order. Finding that position uses a Fenwick tree over the unpicked flags, so a pick is
O(log n) instead of a scan.
"""

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from domain.vocabulary import RiskLevel

MAX_PICKS = 65_536  # the 2-byte counter
RISK_LABELS = tuple(
    sorted(RiskLevel.values())
)  # strata in ascending label order: high, low, medium


class DrawError(ValueError):
    """The draw cannot be made as asked (too many picks, not enough inspectors)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def key_string(sources: Sequence[Sequence[int]]) -> str:
    """RFC 3797 key: per source, values ascending, each followed by '.', then '/'."""
    parts = []
    for values in sources:
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
            raise DrawError("validation_error", "随机源取值须为非负整数")
        parts.append("".join(f"{value}." for value in sorted(values)) + "/")
    return "".join(parts)


class _Fenwick:
    """Counts of unpicked positions; finds the k-th unpicked in O(log n)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.tree = [0] * (size + 1)
        for index in range(1, size + 1):  # O(n) build with every position unpicked
            self.tree[index] += 1
            parent = index + (index & -index)
            if parent <= size:
                self.tree[parent] += self.tree[index]
        self.top = 1 << (size.bit_length() - 1) if size else 0

    def take_kth(self, k: int) -> int:
        """Removes and returns the 0-based position of the k-th (0-based) unpicked item."""
        position, remaining, step = 0, k + 1, self.top
        while step:
            nxt = position + step
            if nxt <= self.size and self.tree[nxt] < remaining:
                position = nxt
                remaining -= self.tree[nxt]
            step >>= 1
        index = position + 1
        while index <= self.size:
            self.tree[index] -= 1
            index += index & -index
        return position


SMALL_POPULATION = 4096  # below this a plain list (C memmove) beats the tree's Python loop


def _hashes(key: str, picks: int) -> list[int]:
    encoded = key.encode("ascii")
    values = []
    for i in range(picks):
        counter = i.to_bytes(2, "big")
        values.append(int.from_bytes(hashlib.md5(counter + encoded + counter).digest(), "big"))
    return values


def select(key: str, population: int, picks: int) -> list[int]:
    """0-based positions of `picks` items drawn from `population` with `key`, in pick order."""
    if picks > MAX_PICKS:
        raise DrawError("validation_error", f"一次抽取不能超过 {MAX_PICKS} 个")
    picks = min(picks, population)
    values = _hashes(key, picks)
    if population <= SMALL_POPULATION:
        unpicked = list(range(population))
        return [unpicked.pop(value % (population - i)) for i, value in enumerate(values)]
    tree = _Fenwick(population)
    return [tree.take_kth(value % (population - i)) for i, value in enumerate(values)]


def stratum_size(candidates: int, rate: Decimal) -> int:
    """k = ceil(n × rate), in exact decimal arithmetic."""
    return int((Decimal(candidates) * rate).to_integral_value(rounding=ROUND_CEILING))


@dataclass
class Stratum:
    label: str
    rate: str | None  # the rate as published (decimal string), None in count mode
    candidates: list[str]  # filing numbers, ordered
    selected: list[str] = field(default_factory=list)


@dataclass
class PoolMember:
    certificate_no: str
    conflicts: frozenset[str] = frozenset()  # operator USCCs


@dataclass
class Assignment:
    m: int
    filing_no: str
    eligible: list[str]
    team: list[str]


def stratum_key(key: str, index: int, *, count_mode: bool) -> str:
    return key if count_mode else f"{key}{index}./"


def draw_objects(key: str, strata: list[Stratum], *, count: int | None = None) -> list[Stratum]:
    """Fills each stratum's `selected` (rate mode: ceil(n × rate); count mode: `count`)."""
    count_mode = count is not None
    for index, stratum in enumerate(strata, start=1):
        if count is not None:
            picks = min(count, len(stratum.candidates))
        else:
            picks = stratum_size(len(stratum.candidates), Decimal(stratum.rate or "0"))
        positions = select(
            stratum_key(key, index, count_mode=count_mode), len(stratum.candidates), picks
        )
        stratum.selected = [stratum.candidates[p] for p in positions]
    return strata


def team_key(key: str, m: int) -> str:
    return f"{key}0.{m}./"


def draw_teams(
    key: str,
    objects: list[tuple[str, str]],
    pool: list[PoolMember],
    team_size: int,
) -> list[Assignment]:
    """Teams for (filing_no, operator USCC) objects in order; pool ordered by certificate."""
    pool = sorted(pool, key=lambda member: member.certificate_no)
    if team_size < 2:
        raise DrawError("validation_error", "每个检查对象至少需要两名检查人员")
    if not objects:
        return []
    if not pool:
        raise DrawError("not_enough_inspectors", "检查人员名录为空，无法组成检查组")
    cap = math.ceil(len(objects) * team_size / len(pool))
    load = {member.certificate_no: 0 for member in pool}
    free_for: dict[str, list[str]] = {}  # operator USCC -> pool members without a conflict
    assignments = []
    for m, (filing_no, uscc) in enumerate(objects, start=1):
        free = free_for.get(uscc)
        if free is None:
            free = [p.certificate_no for p in pool if uscc not in p.conflicts]
            free_for[uscc] = free
        eligible = [certificate_no for certificate_no in free if load[certificate_no] < cap]
        if len(eligible) < team_size:
            eligible = list(free)
        if len(eligible) < team_size:
            raise DrawError(
                "not_enough_inspectors",
                f"第 {m} 个检查对象（{filing_no}）可回避后的检查人员不足 {team_size} 名",
            )
        team = [eligible[p] for p in select(team_key(key, m), len(eligible), team_size)]
        for certificate_no in team:
            load[certificate_no] += 1
        assignments.append(Assignment(m=m, filing_no=filing_no, eligible=eligible, team=team))
    return assignments


def digest(announcement: dict[str, Any]) -> str:
    """SHA-256 of the announcement's canonical JSON: what was frozen before the draw."""
    text = json.dumps(announcement, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def announcement_of(plan: dict[str, Any]) -> dict[str, Any]:
    """The frozen, published part of a plan that the digest covers."""
    return {
        "id": plan["id"],
        "name": plan["name"],
        "region_code": plan["region_code"],
        "item_codes": plan["item_codes"],
        "sampling": plan["sampling"],
        "team_size": plan["team_size"],
        "exclude_recent_days": plan["exclude_recent_days"],
        "period_start": plan["period_start"],
        "period_end": plan["period_end"],
        "randomness_sources": plan["randomness_sources"],
        "strata": [
            {"label": s["label"], "rate": s["rate"], "candidates": s["candidates"]}
            for s in plan["strata"]
        ],
        "pool": plan["pool"],
    }


@dataclass
class Verification:
    verified: bool
    key_string: str | None
    problems: list[str]
    strata: list[dict[str, Any]]
    teams: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "key_string": self.key_string,
            "problems": self.problems,
            "strata": self.strata,
            "teams": self.teams,
        }


def verify(plan: dict[str, Any]) -> Verification:
    """Recomputes a published plan's draw from its published data alone."""
    problems: list[str] = []
    if digest(announcement_of(plan)) != plan.get("digest"):
        problems.append("digest does not match the published candidates and pool")
    if not plan.get("sources"):
        return Verification(False, None, [*problems, "the plan has not been drawn"], [], [])
    key = key_string(plan["sources"])
    if key != plan.get("key_string"):
        problems.append(f"key string: published {plan.get('key_string')!r}, recomputed {key!r}")
    count_mode = plan["sampling"]["mode"] == "count"
    strata = [
        Stratum(label=s["label"], rate=s["rate"], candidates=list(s["candidates"]))
        for s in plan["strata"]
    ]
    draw_objects(key, strata, count=plan["sampling"].get("count") if count_mode else None)
    stratum_report = []
    for computed, published in zip(strata, plan["strata"], strict=True):
        ok = computed.selected == published["selected"]
        if not ok:
            problems.append(f"stratum {computed.label}: selection differs")
        stratum_report.append(
            {"label": computed.label, "selected": computed.selected, "matches": ok}
        )
    expected_objects = [no for s in strata for no in s.selected]
    published_objects = [a["filing_no"] for a in plan["assignments"]]
    if expected_objects != published_objects:
        problems.append("the assignments do not list the selected objects in draw order")
    pool = set(plan["pool"])
    team_report = []
    for assignment in plan["assignments"]:
        eligible = assignment["eligible"]
        if not set(eligible) <= pool or eligible != sorted(eligible):
            problems.append(
                f"object {assignment['m']}: eligible list is not an ordered subset of the pool"
            )
        positions = select(team_key(key, assignment["m"]), len(eligible), plan["team_size"])
        team = [eligible[p] for p in positions]
        ok = team == assignment["team"]
        if not ok:
            problems.append(f"object {assignment['m']}: team differs")
        team_report.append(
            {
                "m": assignment["m"],
                "filing_no": assignment["filing_no"],
                "team": team,
                "matches": ok,
            }
        )
    return Verification(not problems, key, problems, stratum_report, team_report)
