"""Bulk, believable data for benchmarks (`outlet-filing seed-bulk --outlets N`).

What the service writes on each step of a filing's life, written directly in bulk: PostgreSQL
with COPY, SQLite with executemany in large transactions. Going through the service would take
hours per million outlets and measure nothing new; instead every row is what the service would
have written (tests/test_seed_bulk.py holds the rows against the services: receipts against
`issuing.build_payload` and the published keys, directory rows against `directory.refresh`,
the audit chain against `audit.verify`).

The small, rare parts go through the services themselves: staff, enterprises and their owners
(registered and approved), one operator's cancelled licence (its outlets lapse).

Outlets spread over the loaded townships with a Zipf-like skew (town centres many, remote
townships few); acceptances run in time order, so filing serials follow the acceptance order
in each county and year. Each filing's history (events and audit entries) is written in its
own time order; across filings the audit trail's ids follow the filings, not the clock.
"""

import hashlib
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import psycopg
from sqlalchemy import JSON, Connection, Engine, func, text
from sqlmodel import Session, SQLModel, col, select
from stdnum.cn import ric, uscc

from cli.demo import DEMO_PASSWORD, sample_documents
from core import clock
from core.config import get_settings
from core.db import make_engine
from core.security import hash_password
from core.storage import get_storage
from domain.identifiers import mask_mobile, mask_name
from domain.vocabulary import (
    BusinessScope,
    Decision,
    FilingAction,
    FilingStatus,
    OutletType,
    RegionLevel,
    RevisionStatus,
    Role,
)
from domain.working_days import WorkingCalendar
from models.audit import AuditEntry
from models.base import pk, table_of
from models.brand import Brand
from models.enterprise import Enterprise
from models.filing import (
    Document,
    Filing,
    FilingCounter,
    FilingEvent,
    FilingRevision,
    ReviewDecision,
    RevisionBrand,
)
from models.receipt import PublicOutlet, Receipt
from models.region import Region
from models.user import User
from services.accounts import enterprises as enterprise_accounts
from services.accounts import users as accounts
from services.filings import actions, numbering
from services.filings import rules as filing_rules
from services.oversight.audit import GENESIS_HASH, canonical_json
from services.receipts import signing
from services.reference import calendar as working_calendar
from services.reference import regions

PASSWORD = DEMO_PASSWORD  # every account the seeder creates logs in with it
CHINA_OFFSET = timedelta(hours=8)  # Asia/Shanghai has kept UTC+8 without DST since 1991
HISTORY_DAYS = 1000  # acceptances spread over the last ~2.7 years

# The tables written in bulk, in foreign-key order; their `id` sequences are moved past the
# ids given here (PostgreSQL).
BULK_TABLES: list[type[SQLModel]] = [
    Filing,
    FilingRevision,
    RevisionBrand,
    Document,
    FilingEvent,
    AuditEntry,
    ReviewDecision,
    Receipt,
    PublicOutlet,
]

# --- vocabulary of believable content ---------------------------------------------------------

MAIN_BRANDS = ["EMS", "SF", "ZTO", "YTO", "STO", "YUNDA", "JT", "JD", "DEPPON"]
TONGDA = ["ZTO", "YTO", "STO", "YUNDA", "JT"]  # the franchise networks that share 驿站
# How many outlets a county's enterprise of each brand runs, relative to the others.
BRAND_WEIGHT = {
    "EMS": 12,
    "SF": 6,
    "ZTO": 16,
    "YTO": 11,
    "STO": 9,
    "YUNDA": 12,
    "JT": 12,
    "JD": 5,
    "DEPPON": 2,
}
# The county enterprise of each brand: (name pattern, is a branch of a national company).
BRAND_ENTERPRISE = {
    "EMS": ("中国邮政集团有限公司贺州市{county}分公司", True),
    "SF": ("贺州顺丰速运有限公司{county}分公司", True),
    "ZTO": ("贺州市{county}中通快递服务有限公司", False),
    "YTO": ("贺州市{county}圆通速递有限公司", False),
    "STO": ("贺州市{county}申通快递有限公司", False),
    "YUNDA": ("贺州市{county}韵达快递服务有限公司", False),
    "JT": ("贺州市{county}极兔速递有限公司", False),
    "JD": ("贺州京东物流有限公司{county}营业部", True),
    "DEPPON": ("贺州市德邦物流有限公司{county}分公司", True),
}
TRADE_WORDS = "鑫顺达通华盛恒源兴隆宏泰嘉瑞和锦丰旺福祥安捷邦运程远聚众诚信力合"
TRADE_SUFFIXES = ["快递服务有限公司", "物流有限公司", "商贸有限公司", "供应链管理有限公司"]


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁莫覃韦蒙钟廖邓黎潘卢蓝盘唐蒋谢曾冯欧阳"
GIVEN = (
    "伟芳敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯建国建华志强"
    "海燕秀兰春梅小红丽华文军晓东家豪永福金凤振华德明"
)
GIVEN_NAMES = [GIVEN[i : i + 2] for i in range(0, len(GIVEN) - 1, 2)] + list(GIVEN[:40])
STREETS = _words(
    "建设路 新兴路 中山路 太白路 民主街 河东街 光明路 江北路 平安大道 鞍山路 城东路 "
    "西环路 灵峰北路 八达路 贺州大道 站前路 人民路 解放路 兴华路 文化路 育才路 "
    "迎宾路 金山路 龙山路 朝阳街 和平路 振兴路 幸福路 公园路 环城路 新华街 菜市街 "
    "府前路 商贸路"
)
VILLAGES = _words(
    "新村 东村 西岭 石桥 大塘 长岭 黄田 龙井 枫木 南岸 河口 白沙 凤凰 莲花 大平 "
    "竹山 马鞍 狮子 青龙 桥头 新安 太平 上洞 下坝 沙田 古城 新华 福禄 金竹 松木 "
    "高岭 江口 水口 红岩 石门"
)
SHOP_WORDS = ["便利店", "超市", "百货店", "生活超市", "便民店", "五金店"]
BUSINESS_HOURS = ["08:00-20:00", "08:30-21:00", "09:00-18:00", "07:30-21:30", "08:00-22:00"]
MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 155 156 157 158 159 177 180 181 "
    "182 183 186 187 188 189 199"
)
# Where people in Hezhou were first registered: today's codes and the old 贺州地区 (452400s).
ID_AREAS = ["451102", "451103", "451121", "451122", "451123", "452402", "452424", "452427"]
ID_AREAS += ["452428", "450102", "450203", "450305"]
CENTRES = {  # rough county centres (latitude, longitude), for the optional coordinates
    "451102": (24.41, 111.55),
    "451103": (24.45, 111.48),
    "451121": (24.17, 110.81),
    "451122": (24.53, 111.30),
    "451123": (24.81, 111.28),
}
RETURN_CORRECTIONS = [
    {"field": "outlet.address", "reason": "地址须写到门牌号"},
    {"field": "person_in_charge.mobile", "reason": "负责人电话无法接通，请核实"},
    {"field": "outlet.business_hours", "reason": "营业时间与门头公示不一致"},
    {"document": "premises_photo", "reason": "门头照片须能看清招牌"},
    {"document": "business_licence", "reason": "营业执照照片模糊，请重新上传"},
]
CLOSE_REASONS = ["租约到期停业", "经营不善停业", "场所拆迁停业", "合并至附近网点"]
REVOKE_REASONS = ["核查发现场所与备案信息不符", "以欺骗手段取得备案", "网点长期未实际经营"]
CHANGE_REASONS = {"person": "负责人变更", "name": "网点名称变更", "brands": "服务品牌变更"}
LAPSE_REASON = "快递业务经营许可证被依法注销"


# --- the report -------------------------------------------------------------------------------


class DatabaseNotEmpty(Exception):
    """The database already holds filings or accounts (seed-bulk appends only when told)."""


@dataclass
class BulkReport:
    outlets: int
    enterprises: int
    seconds: float
    rows: Counter[str] = field(default_factory=Counter)  # rows written per table
    statuses: Counter[str] = field(default_factory=Counter)  # filings per status
    receipts: Counter[str] = field(default_factory=Counter)  # receipts per derived status
    samples: dict[str, str] = field(default_factory=dict)  # a receipt number per status
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase
    write_seconds: dict[str, float] = field(default_factory=dict)  # seconds per table written

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        rate = self.total_rows / self.seconds if self.seconds else 0.0
        out = [
            f"已写入 {self.outlets} 个网点（{self.enterprises} 家企业），"
            f"共 {self.total_rows} 行，用时 {self.seconds:.1f} 秒（{rate:,.0f} 行/秒，"
            f"{self.outlets / self.seconds if self.seconds else 0:,.0f} 网点/秒）。",
            "filings by status: "
            + ", ".join(f"{status} {count}" for status, count in sorted(self.statuses.items())),
            "receipts by status: "
            + ", ".join(f"{status} {count}" for status, count in sorted(self.receipts.items())),
            "rows: " + ", ".join(f"{table} {count}" for table, count in self.rows.items()),
            "phases: " + ", ".join(f"{name} {sec:.1f}s" for name, sec in self.phases.items()),
            "writing: "
            + ", ".join(f"{name} {sec:.1f}s" for name, sec in self.write_seconds.items()),
        ]
        out += [f"sample {status} receipt: {number}" for status, number in self.samples.items()]
        out.append(
            f"logins: bulk_admin, bulk_reviewer, bulk_reviewer_<county>, bulk_op_<n> "
            f"(password {PASSWORD})"
        )
        return out


# --- reference data held in memory ------------------------------------------------------------


@dataclass(frozen=True)
class _Township:
    code: str
    name: str
    short: str  # 贺街镇 → 贺街, 黄洞瑶族乡 → 黄洞
    county: str
    weight: float


@dataclass
class _Enterprise:
    id: int
    name: str
    uscc: str
    county: str
    brand: str
    is_branch: bool
    owner_id: int
    troubled: bool  # the few operators whose outlets get revoked


@dataclass
class _Sample:
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass
class _Ids:
    """The next id of each table with a surrogate key (ids are given, not generated)."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _short_name(name: str) -> str:
    for suffix in ("瑶族乡", "街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def zipf_townships(
    rows: Sequence[Region], rng: random.Random, exponent: float = 1.07
) -> list[_Township]:
    """Townships weighted 1/rank^s: subdistricts (town centres) first, then towns (镇), then
    the remote townships (乡, ethnic townships), shuffled inside each tier."""

    def tier(region: Region) -> int:
        if region.level == RegionLevel.SUBDISTRICT:
            return 0
        return 1 if region.name.endswith("镇") else 2

    tiers: dict[int, list[Region]] = {}
    for region in sorted(rows, key=lambda r: r.code):
        tiers.setdefault(tier(region), []).append(region)
    ordered: list[Region] = []
    for key in sorted(tiers):
        group = tiers[key]
        rng.shuffle(group)
        ordered += group
    return [
        _Township(
            code=region.code,
            name=region.name,
            short=_short_name(region.name),
            county=region.parent_code or "",
            weight=1.0 / (rank + 1) ** exponent,
        )
        for rank, region in enumerate(ordered)
    ]


# --- writing ------------------------------------------------------------------------------------


class _Writer:
    """Rows into tables: COPY on PostgreSQL, executemany on SQLite, straight to the driver.

    Values are converted as SQLAlchemy's column types would (its own bind processors on
    SQLite; JSON text on PostgreSQL, whose driver adapts the rest), so the stored form is the
    service's own."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.tables = {table_of(model).name: table_of(model) for model in BULK_TABLES}

    def _converters(self, table_name: str, columns: list[str]) -> list[Callable[[Any], Any] | None]:
        table = self.tables[table_name]
        if self.postgresql:
            return [
                json.dumps if isinstance(table.c[name].type, JSON) else None for name in columns
            ]
        dialect = self.connection.dialect
        return [table.c[name].type.bind_processor(dialect) for name in columns]

    def write(self, table_name: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        converters = list(enumerate(self._converters(table_name, columns)))
        converting = [(i, convert) for i, convert in converters if convert is not None]

        def values(row: dict[str, Any]) -> list[Any]:
            out = list(row.values())
            for i, convert in converting:
                out[i] = convert(out[i])  # None too: a JSON column stores it as `null`
            return out

        if not self.connection.in_transaction():
            self.connection.begin()  # SQLite: the engine's BEGIN, so one transaction per flush
        dbapi = self.connection.connection.dbapi_connection
        if not self.postgresql:
            assert dbapi is not None
            marks = ", ".join("?" * len(columns))
            sqlite_cursor = dbapi.cursor()
            sqlite_cursor.executemany(
                f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({marks})",
                [values(row) for row in rows],
            )
            sqlite_cursor.close()
            return
        statement = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
        with (
            cast(psycopg.Connection[Any], dbapi).cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row(values(row))


# --- time -------------------------------------------------------------------------------------


def _moment(day: date, minute: int) -> datetime:
    """An instant, given a China calendar day and the minute of that day (China time)."""
    return (
        datetime(day.year, day.month, day.day, tzinfo=UTC)
        + timedelta(minutes=minute)
        - (CHINA_OFFSET)
    )


def _china_day(moment: datetime) -> date:
    return (moment + CHINA_OFFSET).date()


class _Calendar:
    """The service's working-day calendar, memoised per day (millions of look-ups)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.known: dict[date, bool] = {}

    def working(self, day: date) -> bool:
        found = self.known.get(day)
        if found is None:
            found = self.known[day] = self.calendar.is_working_day(day)
        return found

    def on_or_after(self, day: date) -> date:
        while not self.working(day):
            day += timedelta(days=1)
        return day

    def back(self, day: date, days: int) -> date:
        """The working day `days` working days before `day` (a working day itself)."""
        while days > 0:
            day -= timedelta(days=1)
            if self.working(day):
                days -= 1
        while not self.working(day):
            day -= timedelta(days=1)
        return day

    def forward(self, day: date, days: int) -> date:
        while days > 0:
            day += timedelta(days=1)
            if self.working(day):
                days -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """As `domain.working_days.working_days_between`, on the memoised days."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.working(day):
                count += 1
        return count

    def deadlines(self, submitted_on: date) -> tuple[date, date]:
        return (
            self.forward(submitted_on, filing_rules.REVIEW_WORKING_DAYS),
            self.forward(submitted_on, filing_rules.RETURN_WORKING_DAYS),
        )


# --- one filing's story -----------------------------------------------------------------------


@dataclass
class _Rev:
    """A revision being written: its row and what the receipt and directory need."""

    row: dict[str, Any]
    documents: list[dict[str, Any]] = field(default_factory=list)


class _Generator:
    """Builds each filing's rows, in batches, with ids, serials and the audit chain carried
    from one batch to the next."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: datetime,
        outlets: int,
        townships: list[_Township],
        enterprises: list[_Enterprise],
        reviewers: dict[str, list[int]],
        region_names: dict[str, str],
        brand_names: dict[str, str],
        calendar: _Calendar,
        samples: dict[str, _Sample],
        ids: _Ids,
        counters: dict[tuple[str, int], int],
        audit_head: str,
        ring: signing.KeyRing,
        authority: str,
    ) -> None:
        self.rng = rng
        self.now = now
        self.today = _china_day(now)
        self.outlets = outlets
        self.townships = townships
        self.township_cumulative = list(itertools.accumulate(t.weight for t in townships))
        self.by_county: dict[str, list[_Enterprise]] = {}
        for enterprise in enterprises:
            self.by_county.setdefault(enterprise.county, []).append(enterprise)
        self.county_cumulative = {
            county: list(itertools.accumulate(BRAND_WEIGHT.get(e.brand, 10) for e in group))
            for county, group in self.by_county.items()
        }
        self.reviewers = reviewers
        self.region_names = region_names
        self.brand_names = brand_names
        self.calendar = calendar
        self.samples = samples
        self.ids = ids
        self.counters = counters
        self.audit_head = audit_head
        self.ring = ring
        self.authority = authority
        self.start_day = self.today - timedelta(days=HISTORY_DAYS)
        self.span_days = HISTORY_DAYS - 4
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.statuses: Counter[str] = Counter()
        self.receipts: Counter[str] = Counter()
        self.samples_by_status: dict[str, str] = {}

    # -- content --

    def person(self) -> dict[str, str]:
        rng = self.rng
        birth = date(1962, 1, 1) + timedelta(days=rng.randint(0, 15_300))
        body = f"{rng.choice(ID_AREAS)}{birth:%Y%m%d}{rng.randint(1, 999):03d}"
        return {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
            "id_number": body + ric.calc_check_digit(body + "0"),
            "mobile": self.mobile(),
        }

    def mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"

    def address(self, township: _Township) -> tuple[str, str]:
        """(street part as stored, a place word for names). The service stores the part after
        the province, city, county and township names, which pages print from the codes."""
        rng = self.rng
        urban = township.weight > 0.08 or rng.random() < 0.45
        if urban:
            street = rng.choice(STREETS)
            number = rng.randint(1, 388)
            if rng.random() < 0.3:
                return f"{street}{number}号{rng.randint(1, 12)}栋{rng.randint(1, 30)}号门面", street
            return f"{street}{number}号", street
        village = rng.choice(VILLAGES)
        if rng.random() < 0.25:
            return f"{village}村委会旁{rng.randint(1, 60)}号", village
        return f"{village}村{rng.randint(1, 12)}组{rng.randint(1, 80)}号", village

    def content(
        self, township: _Township, enterprise: _Enterprise
    ) -> tuple[dict[str, Any], dict[str, str], dict[str, str] | None]:
        """(outlet, person in charge, partner) as the service stores them after validation."""
        rng = self.rng
        address, place = self.address(township)
        brand = enterprise.brand
        brand_name = self.brand_names.get(brand, brand)
        town = township.short
        cooperative = False
        brands = [brand]
        kind = rng.random()
        if brand == "EMS":
            if kind < 0.5:
                name = f"中国邮政{town}邮政所"
            else:
                name, cooperative = f"{place}村邮政快递服务站", True
        elif brand in ("SF", "JD", "DEPPON"):
            suffix = {"SF": "速运", "JD": "快递", "DEPPON": "快递"}[brand]
            name = f"{brand_name}{suffix}{town}{place}营业点"
        elif kind < 0.35:
            name = f"{brand_name}快递{town}{place}服务部"
        else:
            cooperative = True
            others = [b for b in TONGDA if b != brand]
            brands += rng.sample(others, rng.randint(0, 3))
            chain = {"ZTO": "兔喜生活", "YUNDA": "妈妈驿站"}.get(brand, "菜鸟驿站")
            if kind < 0.55:
                name = f"{place}村级寄递物流综合服务站" if place in VILLAGES else f"{town}快递超市"
            else:
                name = f"{chain}（{town}{place}{rng.randint(1, 99)}号店）"
        scope_roll = rng.random()
        scope = (
            [BusinessScope.COLLECT.value, BusinessScope.DELIVER.value]
            if scope_roll < 0.8
            else [BusinessScope.DELIVER.value]
            if scope_roll < 0.95
            else [BusinessScope.COLLECT.value]
        )
        latitude = longitude = None
        if rng.random() < 0.7:
            centre = CENTRES.get(township.county, (24.4, 111.5))
            latitude = round(centre[0] + rng.uniform(-0.15, 0.15), 6)
            longitude = round(centre[1] + rng.uniform(-0.15, 0.15), 6)
        outlet: dict[str, Any] = {
            "name": name,
            "type": (OutletType.COOPERATIVE if cooperative else OutletType.SELF_OPERATED).value,
            "scope": scope,
            "brands": brands,
            "county_code": township.county,
            "township_code": township.code,
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
            "opened_on": "",  # set by the caller, who knows the timeline
            "business_hours": rng.choice(BUSINESS_HOURS),
            "floor_area_m2": float(rng.randint(12, 160)),
            "staff_count": rng.randint(1, 8),
            "has_cctv": rng.random() < 0.92,
        }
        person = self.person()
        partner = None
        if cooperative:
            if rng.random() < 0.6:
                owner = self.person()
                partner = {
                    "name": owner["name"],
                    "id_number_or_uscc": owner["id_number"],
                    "mobile": owner["mobile"],
                }
            else:
                body = f"92{township.county}MA{rng.randint(0, 9_999_999):07d}"
                partner = {
                    "name": f"{township.name}{rng.choice(SURNAMES)}记{rng.choice(SHOP_WORDS)}",
                    "id_number_or_uscc": body + uscc.calc_check_digit(body),
                    "mobile": self.mobile(),
                }
        return outlet, person, partner

    # -- rows --

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def event(
        self,
        filing: dict[str, Any],
        rev: dict[str, Any],
        *,
        action: FilingAction,
        actor: int | None,
        at: datetime,
        from_status: str | None,
        to_status: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """The history event and audit entry `services.filings.events.record_event` writes,
        and its version bump."""
        detail = detail or {}
        self.add(
            "filing_event",
            {
                "id": self.ids.take("filing_event"),
                "filing_id": filing["id"],
                "revision": rev["number"],
                "action": action.value,
                "from_status": from_status,
                "to_status": to_status,
                "actor_id": actor,
                "at": at,
                "detail": detail,
            },
        )
        data = {
            "revision": rev["number"],
            "from": from_status,
            "to": to_status,
            "filing_no": filing["filing_no"],
            **detail,
        }
        data_json = canonical_json(data)
        name = f"filing.{action.value}"
        entity_id = str(filing["id"])
        # `audit.entry_hash`'s canonical JSON, composed around the one nested object (keys in
        # sorted order; the plain values here need no escaping): half the encoding work.
        content = (
            f'{{"action":"{name}","actor_id":{"null" if actor is None else actor},'
            f'"at":"{at.isoformat(timespec="microseconds")}","data":{data_json},'
            f'"entity":"filing","entity_id":"{entity_id}","region_code":"{rev["county_code"]}"}}'
        )
        digest = hashlib.sha256((self.audit_head + content).encode()).hexdigest()
        self.add(
            "audit_entry",
            {
                "id": self.ids.take("audit_entry"),
                "at": at,
                "actor_id": actor,
                "action": name,
                "entity": "filing",
                "entity_id": entity_id,
                "region_code": rev["county_code"],
                "data": data_json,
                "prev_hash": self.audit_head,
                "hash": digest,
            },
        )
        self.audit_head = digest
        filing["version"] += 1
        filing["updated_at"] = at

    def new_revision(
        self,
        filing: dict[str, Any],
        number: int,
        outlet: dict[str, Any],
        person: dict[str, str],
        partner: dict[str, str] | None,
        created_at: datetime,
    ) -> _Rev:
        row = {
            "id": self.ids.take("filing_revision"),
            "filing_id": filing["id"],
            "number": number,
            "status": RevisionStatus.DRAFT.value,
            "outlet": outlet,
            "person_in_charge": person,
            "partner": partner,
            "outlet_name": outlet["name"],
            "address": outlet["address"],
            "county_code": outlet["county_code"],
            "township_code": outlet["township_code"],
            "opened_on": date.fromisoformat(outlet["opened_on"]),
            "changed_on": None,
            "change_reason": None,
            "late": False,
            "submitted_at": None,
            "review_due_on": None,
            "return_due_on": None,
            "decided_at": None,
            "decided_by_id": None,
            "corrections": [],
            "return_count": 0,
            "receipt_no": None,
            "created_at": created_at,
        }
        for code in outlet["brands"]:
            self.add("revision_brand", {"revision_id": row["id"], "brand_code": code})
        return _Rev(row)

    def upload(
        self, filing: dict[str, Any], rev: _Rev, enterprise: _Enterprise, at: datetime, count: int
    ) -> datetime:
        """The first `count` required documents, each an upload a few minutes apart."""
        kinds = filing_rules.required_documents(
            outlet_type=rev.row["outlet"]["type"], is_branch=enterprise.is_branch
        )
        for kind in kinds[:count]:
            at += timedelta(minutes=self.rng.randint(1, 6), seconds=self.rng.randint(0, 59))
            sample = self.samples[kind]
            document = {
                "id": self.ids.take("document"),
                "revision_id": rev.row["id"],
                "kind": kind,
                "filename": sample.filename,
                "content_type": sample.content_type,
                "size": sample.size,
                "sha256": sample.sha256,
                "uploaded_by_id": enterprise.owner_id,
                "uploaded_at": at,
            }
            self.add("document", document)
            rev.documents.append(document)
            status = rev.row["status"]
            self.event(
                filing,
                rev.row,
                action=FilingAction.ADD_DOCUMENT,
                actor=enterprise.owner_id,
                at=at,
                from_status=status,
                to_status=status,
                detail={"kind": kind, "sha256": sample.sha256, "document_id": document["id"]},
            )
        return at

    def submit(
        self, filing: dict[str, Any], rev: _Rev, enterprise: _Enterprise, at: datetime
    ) -> None:
        row = rev.row
        submitted_on = _china_day(at)
        if row["submitted_at"] is None:  # lateness is judged by the first submission
            started = row["changed_on"] if row["number"] > 1 else row["opened_on"]
            allowed = filing_rules.CHANGE_DAYS if row["number"] > 1 else filing_rules.FILING_DAYS
            row["late"] = filing_rules.is_late(
                submitted_on=submitted_on, started_on=started, allowed_days=allowed
            )
        row["submitted_at"] = at
        row["review_due_on"], row["return_due_on"] = self.calendar.deadlines(submitted_on)
        old = row["status"]
        row["status"] = RevisionStatus.SUBMITTED.value
        if row["number"] == 1:
            filing["status"] = FilingStatus.SUBMITTED.value
        self.event(
            filing,
            row,
            action=FilingAction.SUBMIT,
            actor=enterprise.owner_id,
            at=at,
            from_status=old,
            to_status=RevisionStatus.SUBMITTED.value,
            detail={"late": row["late"], "review_due_on": row["review_due_on"].isoformat()},
        )

    def decision(self, filing: dict[str, Any], rev: _Rev, action: Decision, at: datetime) -> None:
        row = rev.row
        submitted_on = _china_day(row["submitted_at"])
        decided_on = _china_day(at)
        days = self.calendar.between(submitted_on, decided_on)
        limit = (
            filing_rules.REVIEW_WORKING_DAYS
            if action == Decision.ACCEPT
            else filing_rules.RETURN_WORKING_DAYS
        )
        self.add(
            "review_decision",
            {
                "id": self.ids.take("review_decision"),
                "filing_id": filing["id"],
                "revision_id": row["id"],
                "county_code": row["county_code"],
                "action": action.value,
                "submitted_on": submitted_on,
                "decided_on": decided_on,
                "working_days": days,
                "within_deadline": days <= limit,
                "decided_at": at,
            },
        )

    def reviewer(self, county: str) -> int:
        return self.rng.choice(self.reviewers[county])

    def return_(self, filing: dict[str, Any], rev: _Rev, at: datetime) -> list[dict[str, str]]:
        row = rev.row
        items = [dict(item) for item in self.rng.sample(RETURN_CORRECTIONS, self.rng.randint(1, 2))]
        self.decision(filing, rev, Decision.RETURN, at)
        reviewer = self.reviewer(row["county_code"])
        row["status"] = RevisionStatus.RETURNED.value
        row["corrections"] = items
        row["decided_at"] = at
        row["decided_by_id"] = reviewer
        row["return_count"] += 1
        if filing["current_revision_id"] is None:
            filing["status"] = FilingStatus.RETURNED.value
        self.event(
            filing,
            row,
            action=FilingAction.RETURN,
            actor=reviewer,
            at=at,
            from_status=RevisionStatus.SUBMITTED.value,
            to_status=RevisionStatus.RETURNED.value,
            detail={"corrections": items},
        )
        return items

    def correct(
        self,
        filing: dict[str, Any],
        rev: _Rev,
        enterprise: _Enterprise,
        items: list[dict[str, str]],
        at: datetime,
    ) -> None:
        sections = sorted({item["field"].split(".")[0] for item in items if "field" in item})
        self.event(
            filing,
            rev.row,
            action=FilingAction.EDIT,
            actor=enterprise.owner_id,
            at=at,
            from_status=rev.row["status"],
            to_status=rev.row["status"],
            detail={"sections": sections or ["outlet"]},
        )

    def accept(
        self,
        filing: dict[str, Any],
        rev: _Rev,
        enterprise: _Enterprise,
        at: datetime,
        previous: _Rev | None,
    ) -> None:
        row = rev.row
        accepted_on = _china_day(at)
        if filing["filing_no"] is None:
            key = (row["county_code"], accepted_on.year)
            serial = self.counters.get(key, 0) + 1
            self.counters[key] = serial
            filing["filing_no"] = numbering.filing_number(key[0], key[1], serial)
        if previous is not None:
            previous.row["status"] = RevisionStatus.SUPERSEDED.value
        self.decision(filing, rev, Decision.ACCEPT, at)
        reviewer = self.reviewer(row["county_code"])
        row["status"] = RevisionStatus.FILED.value
        row["decided_at"] = at
        row["decided_by_id"] = reviewer
        row["corrections"] = []
        row["receipt_no"] = numbering.receipt_number(filing["filing_no"], row["number"])
        filing["status"] = FilingStatus.FILED.value
        filing["current_revision_id"] = row["id"]
        filing["open_revision_id"] = None
        filing["county_code"] = row["county_code"]
        filing["township_code"] = row["township_code"]
        self.receipt(filing, row, enterprise, at)
        self.event(
            filing,
            row,
            action=FilingAction.ACCEPT,
            actor=reviewer,
            at=at,
            from_status=RevisionStatus.SUBMITTED.value,
            to_status=RevisionStatus.FILED.value,
            detail={"receipt_no": row["receipt_no"]},
        )

    def receipt(
        self, filing: dict[str, Any], row: dict[str, Any], enterprise: _Enterprise, at: datetime
    ) -> None:
        """As `services.receipts.issuing.issue`: the payload of `build_payload`, signed."""
        outlet = row["outlet"]
        issued_on = _china_day(at)
        payload = {
            "receipt_no": row["receipt_no"],
            "filing_no": filing["filing_no"],
            "revision": row["number"],
            "issued_on": issued_on.isoformat(),
            "authority": self.authority,
            "outlet": {
                "name": outlet["name"],
                "type": outlet["type"],
                "scope": outlet["scope"],
                "county_code": row["county_code"],
                "county_name": self.region_names.get(row["county_code"], ""),
                "township_code": row["township_code"],
                "township_name": self.region_names.get(row["township_code"], ""),
                "address": outlet["address"],
            },
            "operator": {"name": enterprise.name, "uscc": enterprise.uscc},
            "brands": [
                {"code": code, "name": self.brand_names.get(code, code)}
                for code in outlet["brands"]
            ],
            "opened_on": outlet["opened_on"],
        }
        token, kid = signing.sign(payload, self.ring)
        self.add(
            "receipt",
            {
                "id": self.ids.take("receipt"),
                "receipt_no": row["receipt_no"],
                "filing_id": filing["id"],
                "revision_id": row["id"],
                "revision": row["number"],
                "issued_on": issued_on,
                "issued_at": at,
                "kid": kid,
                "payload": signing.canonical(payload),
                "jws": token,
            },
        )

    def directory_row(
        self, filing: dict[str, Any], row: dict[str, Any], enterprise: _Enterprise
    ) -> None:
        """As `services.receipts.directory.refresh` writes it for a filed outlet."""
        outlet = row["outlet"]
        self.add(
            "public_outlet",
            {
                "filing_id": filing["id"],
                "revision_id": row["id"],
                "filing_no": filing["filing_no"],
                "receipt_no": row["receipt_no"],
                "name": row["outlet_name"],
                "address": row["address"],
                "outlet_type": outlet["type"],
                "scope": ",".join(outlet["scope"]),
                "brands": ",".join(outlet["brands"]),
                "county_code": row["county_code"],
                "township_code": row["township_code"],
                "operator_name": enterprise.name,
                "operator_uscc": enterprise.uscc,
                "person_name_masked": mask_name(row["person_in_charge"]["name"]),
                "mobile_masked": mask_mobile(row["person_in_charge"]["mobile"]),
                "opened_on": row["opened_on"],
                "issued_on": _china_day(row["decided_at"]),
            },
        )

    # -- timelines --

    def accepted_at(self, index: int) -> datetime:
        """The `index`-th outlet's acceptance: in index order, office hours, working days."""
        position = index * self.span_days / max(self.outlets, 1)
        whole = int(position)
        day = self.calendar.on_or_after(self.start_day + timedelta(days=whole))
        minute = 540 + int((position - whole) * 510)  # 09:00 to 17:30
        return _moment(day, minute)

    def before(self, moment: datetime, working_days: int) -> datetime:
        """A submission `working_days` working days before `moment`, at a believable hour
        (earlier that day when 0)."""
        day = self.calendar.back(_china_day(moment), working_days)
        if working_days == 0:
            latest = int((moment - _moment(day, 0)).total_seconds() // 60) - 30
            minute = self.rng.randint(420, max(421, min(latest, 1320)))
        else:
            minute = self.rng.randint(480, 1320)
        return _moment(day, minute) + timedelta(seconds=self.rng.randint(0, 59))

    def review_days(self) -> int:
        return self.rng.choices(range(7), weights=[8, 24, 26, 18, 10, 8, 6])[0]

    def first_filing(
        self,
        filing: dict[str, Any],
        township: _Township,
        enterprise: _Enterprise,
        first_submit: datetime | None,
        created_at: datetime,
    ) -> _Rev:
        """Revision 1 drafted at `created_at` (the outlet opened a little before the first
        submission), its documents uploaded."""
        outlet, person, partner = self.content(township, enterprise)
        if first_submit is not None:
            late = self.rng.random() < 0.08
            delay = self.rng.randint(21, 60) if late else self.rng.randint(2, 18)
            opened_on = _china_day(first_submit) - timedelta(days=delay)
        else:
            opened_on = _china_day(created_at) - timedelta(days=self.rng.randint(0, 15))
        outlet["opened_on"] = opened_on.isoformat()
        filing["created_at"] = filing["updated_at"] = created_at
        rev = self.new_revision(filing, 1, outlet, person, partner, created_at)
        filing["open_revision_id"] = rev.row["id"]
        self.event(
            filing,
            rev.row,
            action=FilingAction.CREATE,
            actor=enterprise.owner_id,
            at=created_at,
            from_status=None,
            to_status=RevisionStatus.DRAFT.value,
        )
        return rev

    def drafted_before(self, first_submit: datetime) -> datetime:
        minutes = self.rng.randint(40, 5 * 24 * 60)
        return first_submit - timedelta(minutes=minutes)

    def outlet(self, index: int) -> None:
        rng = self.rng
        township = rng.choices(self.townships, cum_weights=self.township_cumulative)[0]
        county = township.county
        enterprise = rng.choices(
            self.by_county[county], cum_weights=self.county_cumulative[county]
        )[0]
        filing: dict[str, Any] = {
            "id": self.ids.take("filing"),
            "enterprise_id": enterprise.id,
            "status": FilingStatus.DRAFT.value,
            "filing_no": None,
            "county_code": county,
            "township_code": township.code,
            "current_revision_id": None,
            "open_revision_id": None,
            "risk_override": None,
            "risk_override_reason": None,
            "closed_on": None,
            "end_reason": None,
            "ended_at": None,
            "version": 1,
            "created_at": self.now,
            "updated_at": self.now,
        }
        roll = rng.random()
        revs: list[_Rev]
        if roll < 0.025:
            revs = [self.draft(filing, township, enterprise)]
        elif roll < 0.055:
            revs = [self.in_review(filing, township, enterprise)]
        elif roll < 0.07:
            revs = [self.returned(filing, township, enterprise)]
        else:
            revs = self.filed(filing, township, enterprise, index, roll)
        self.add("filing", filing)
        for rev in revs:
            self.add("filing_revision", rev.row)
        self.statuses[filing["status"]] += 1

    def draft(self, filing: dict[str, Any], township: _Township, enterprise: _Enterprise) -> _Rev:
        created = self.now - timedelta(minutes=self.rng.randint(60, 40 * 24 * 60))
        rev = self.first_filing(filing, township, enterprise, None, created)
        self.upload(filing, rev, enterprise, created, self.rng.randint(0, 3))
        return rev

    def in_review(
        self, filing: dict[str, Any], township: _Township, enterprise: _Enterprise
    ) -> _Rev:
        """Waiting in a reviewer's queue: submitted 0–8 working days ago (some overdue)."""
        submitted = min(
            self.before(self.now, self.rng.randint(0, 8)), self.now - timedelta(minutes=10)
        )
        created = self.drafted_before(submitted)
        rev = self.first_filing(filing, township, enterprise, submitted, created)
        self.upload(filing, rev, enterprise, created, 5)
        self.submit(filing, rev, enterprise, submitted)
        return rev

    def returned(
        self, filing: dict[str, Any], township: _Township, enterprise: _Enterprise
    ) -> _Rev:
        """Returned for corrections within the last three weeks, not resubmitted yet."""
        day = self.calendar.back(self.today, self.rng.randint(0, 14))
        returned_at = min(
            _moment(day, self.rng.randint(540, 1050)), self.now - timedelta(minutes=5)
        )
        submitted = self.before(returned_at, self.rng.randint(0, 2))
        created = self.drafted_before(submitted)
        rev = self.first_filing(filing, township, enterprise, submitted, created)
        self.upload(filing, rev, enterprise, created, 5)
        self.submit(filing, rev, enterprise, submitted)
        self.return_(filing, rev, returned_at)
        filing["open_revision_id"] = rev.row["id"]
        return rev

    def filed(
        self,
        filing: dict[str, Any],
        township: _Township,
        enterprise: _Enterprise,
        index: int,
        roll: float,
    ) -> list[_Rev]:
        rng = self.rng
        accepted = self.accepted_at(index)
        returns = 0 if rng.random() < 0.93 else (1 if rng.random() < 0.85 else 2)
        # Submissions back from the acceptance: the last one, then each returned one before it.
        submissions = [self.before(accepted, self.review_days())]
        returned_at: list[datetime] = []
        for _ in range(returns):
            back = submissions[0] - timedelta(minutes=rng.randint(6 * 60, 4 * 24 * 60))
            returned_at.insert(0, back)
            submissions.insert(0, self.before(back, rng.randint(0, 2)))
        created = self.drafted_before(submissions[0])
        rev = self.first_filing(filing, township, enterprise, submissions[0], created)
        self.upload(filing, rev, enterprise, created, 5)
        for number, submitted in enumerate(submissions):
            self.submit(filing, rev, enterprise, submitted)
            if number < returns:
                items = self.return_(filing, rev, returned_at[number])
                corrected = (
                    returned_at[number] + (submissions[number + 1] - returned_at[number]) / 2
                )
                self.correct(filing, rev, enterprise, items, corrected)
        self.accept(filing, rev, enterprise, accepted, None)
        revs = [rev]
        room = (self.now - accepted).days  # how much later life fits before today
        later = rng.random()
        revoking = rng.random() < (0.06 if enterprise.troubled else 0.002)
        if roll < 0.11 and room > 30:
            self.end(filing, rev, enterprise, accepted, FilingAction.CLOSE)
        elif revoking and room > 30:
            self.end(filing, rev, enterprise, accepted, FilingAction.REVOKE)
        elif later < 0.04 and room > 25:
            revs.append(self.change(filing, rev, enterprise, accepted, accept=True))
        elif later < 0.055 and room > 20:
            revs.append(self.change(filing, rev, enterprise, accepted, accept=False))
        current = revs[-1] if filing["current_revision_id"] == revs[-1].row["id"] else rev
        if filing["status"] == FilingStatus.FILED:
            self.directory_row(filing, current.row, enterprise)
        self.count_receipts(filing, revs)
        return revs

    def count_receipts(self, filing: dict[str, Any], revs: list[_Rev]) -> None:
        for rev in revs:
            number = rev.row["receipt_no"]
            if number is None:
                continue
            if filing["current_revision_id"] != rev.row["id"]:
                status = "superseded"
            else:
                status = {"filed": "valid"}.get(filing["status"], filing["status"])
            self.receipts[status] += 1
            self.samples_by_status.setdefault(status, number)

    def change(
        self,
        filing: dict[str, Any],
        current: _Rev,
        enterprise: _Enterprise,
        accepted: datetime,
        *,
        accept: bool,
    ) -> _Rev:
        """A change after acceptance: accepted (revision 2 in force, receipt R1 superseded) or
        submitted and waiting in the queue."""
        rng = self.rng
        if accept:
            latest = (self.now - accepted).days - 3
            day = self.calendar.on_or_after(
                _china_day(accepted) + timedelta(days=rng.randint(20, latest))
            )
            decided = _moment(min(day, self.today - timedelta(days=2)), rng.randint(540, 1050))
            submitted = self.before(decided, self.review_days())
        else:
            submitted = min(
                self.before(self.now, rng.randint(0, 6)), self.now - timedelta(minutes=10)
            )
        changed_on = _china_day(submitted) - timedelta(days=rng.randint(1, 14))
        opened = max(_moment(changed_on, rng.randint(480, 1200)), accepted + timedelta(hours=1))
        opened = min(opened, submitted - timedelta(minutes=20))
        what = rng.choice(list(CHANGE_REASONS))
        outlet = dict(current.row["outlet"])
        person = dict(current.row["person_in_charge"])
        section = "outlet"
        if what == "person":
            person = self.person()
            section = "person_in_charge"
        elif what == "name":
            outlet["name"] = (
                outlet["name"].replace("）", "二店）")
                if "）" in outlet["name"]
                else (outlet["name"] + "（新址）")
            )
        else:
            extra = [b for b in TONGDA if b not in outlet["brands"]]
            outlet["brands"] = outlet["brands"] + extra[:1] if extra else outlet["brands"][:1]
        partner = current.row["partner"]
        rev = self.new_revision(filing, current.row["number"] + 1, outlet, person, partner, opened)
        rev.row["changed_on"] = changed_on
        rev.row["change_reason"] = CHANGE_REASONS[what]
        for document in current.documents:  # shared files, as `_copy_brands_and_documents`
            copy = dict(document, id=self.ids.take("document"), revision_id=rev.row["id"])
            self.add("document", copy)
            rev.documents.append(copy)
        filing["open_revision_id"] = rev.row["id"]
        self.event(
            filing,
            rev.row,
            action=FilingAction.OPEN_CHANGE,
            actor=enterprise.owner_id,
            at=opened,
            from_status=None,
            to_status=RevisionStatus.DRAFT.value,
            detail={"changed_on": changed_on.isoformat(), "reason": CHANGE_REASONS[what]},
        )
        self.event(
            filing,
            rev.row,
            action=FilingAction.EDIT,
            actor=enterprise.owner_id,
            at=opened + (submitted - opened) / 2,
            from_status=RevisionStatus.DRAFT.value,
            to_status=RevisionStatus.DRAFT.value,
            detail={"sections": [section]},
        )
        self.submit(filing, rev, enterprise, submitted)
        if accept:
            self.accept(filing, rev, enterprise, decided, current)
        return rev

    def end(
        self,
        filing: dict[str, Any],
        rev: _Rev,
        enterprise: _Enterprise,
        accepted: datetime,
        action: FilingAction,
    ) -> None:
        rng = self.rng
        latest = (self.now - accepted).days - 1
        at = accepted + timedelta(days=rng.randint(20, latest), minutes=rng.randint(0, 600))
        closing = action == FilingAction.CLOSE
        reason = rng.choice(CLOSE_REASONS if closing else REVOKE_REASONS)
        closed_on = max(_china_day(at) - timedelta(days=rng.randint(0, 10)), _china_day(accepted))
        new_status = FilingStatus.CLOSED if closing else FilingStatus.REVOKED
        filing["status"] = new_status.value
        filing["end_reason"] = reason
        filing["ended_at"] = at
        filing["closed_on"] = closed_on if closing else None
        detail: dict[str, Any] = {"reason": reason}
        if closing:
            detail["closed_on"] = closed_on.isoformat()
        self.event(
            filing,
            rev.row,
            action=action,
            actor=enterprise.owner_id if closing else self.reviewer(rev.row["county_code"]),
            at=at,
            from_status=FilingStatus.FILED.value,
            to_status=new_status.value,
            detail=detail,
        )

    def take_rows(self) -> dict[str, list[dict[str, Any]]]:
        rows, self.rows = self.rows, {}
        return rows


# --- the seeder ---------------------------------------------------------------------------------


def _engine(target: Engine | str) -> Engine:
    return make_engine(target) if isinstance(target, str) else target


def has_data(session: Session) -> bool:
    """Whether the database holds any account, enterprise or filing."""
    for model in (User, Enterprise, Filing):
        if session.exec(select(func.count()).select_from(model)).one():
            return True
    return False


def _store_samples() -> dict[str, _Sample]:
    """The demo's small real files, stored once; every document row shares them by hash."""
    storage = get_storage()
    directory = get_settings().data_dir / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    content_types = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
    samples = {}
    for kind, (filename, content) in sample_documents().items():
        sha256 = hashlib.sha256(content).hexdigest()
        if not storage.exists(sha256):
            path = directory / f"bulk-{sha256}"
            path.write_bytes(content)
            storage.put_file(path, sha256)
        samples[kind] = _Sample(
            kind, filename, content_types[filename.rsplit(".", 1)[1]], len(content), sha256
        )
    return samples


def _staff(
    session: Session, tag: str, password_hash: str, counties: dict[str, str]
) -> tuple[User, dict[str, list[int]]]:
    """A city admin, a city reviewer and one reviewer per county; reviewers per county (the
    city's reviewer decides a share everywhere)."""

    def create(username: str, role: Role, jurisdiction: str, display_name: str) -> User:
        return accounts.create_user(
            session,
            username=f"bulk{tag}_{username}",
            password_hash=password_hash,
            role=role,
            jurisdiction=jurisdiction,
            display_name=display_name,
        )

    create("admin", Role.ADMIN, "451100", "贺州市邮政管理局管理员")
    city = create("reviewer", Role.REVIEWER, "451100", "贺州市邮政管理局审核员")
    reviewers: dict[str, list[int]] = {}
    for code, name in counties.items():
        local = create(f"reviewer_{code}", Role.REVIEWER, code, f"{name}审核员")
        reviewers[code] = [pk(local)] * 4 + [pk(city)]
    return city, reviewers


def _enterprises(
    session: Session,
    *,
    rng: random.Random,
    tag: str,
    outlets: int,
    counties: dict[str, str],
    county_share: dict[str, float],
    password_hash: str,
    approver: User,
    registered_at: datetime,
) -> list[_Enterprise]:
    """Each main brand's enterprise in each county, and franchisees of the networks (one per
    ~2,500 outlets), registered and approved through the service."""
    plan: list[tuple[str, str, str, bool]] = []  # (county, brand, name, is_branch)
    for county, county_name in counties.items():
        short = county_name.removesuffix("区").removesuffix("县")
        short = short.removesuffix("瑶族自治")
        for brand in MAIN_BRANDS:
            pattern, is_branch = BRAND_ENTERPRISE[brand]
            plan.append((county, brand, pattern.format(county=short), is_branch))
    names: set[str] = set()
    for _ in range(outlets // 2500):
        county = rng.choices(list(county_share), weights=list(county_share.values()))[0]
        while True:
            words = "".join(rng.sample(TRADE_WORDS, 2))
            name = f"{counties[county]}{words}{rng.choice(TRADE_SUFFIXES)}"
            if name not in names:
                break
        names.add(name)
        plan.append((county, rng.choice(TONGDA), name, False))
    found: list[_Enterprise] = []
    base = session.exec(select(func.count()).select_from(Enterprise)).one()
    with clock.frozen_at(registered_at):
        for serial, (county, brand, name, is_branch) in enumerate(plan, start=base + 1):
            body = f"91{county}MA5B{serial:05d}"
            contact = rng.choice(SURNAMES) + rng.choice(["经理", "先生", "女士"])
            enterprise = enterprise_accounts.register(
                session,
                name=name,
                uscc=body + uscc.calc_check_digit(body),
                licence_no=f"桂邮{2016 + serial % 8}{serial:04d}",
                region_code=county,
                is_branch=is_branch,
                contact_name=contact,
                contact_mobile=f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}",
                username=f"bulk{tag}_op_{serial:05d}",
                password_hash=password_hash,
                licence_valid_from=date(2016 + serial % 8, 3, 1),
                licence_valid_until=date(2030 + serial % 5, 2, 28),
            )
            enterprise_accounts.approve(session, enterprise, approver=approver)
            owner = session.exec(
                select(User).where(User.enterprise_id == enterprise.id, col(User.is_owner))
            ).one()
            found.append(
                _Enterprise(
                    id=pk(enterprise),
                    name=enterprise.name,
                    uscc=enterprise.uscc,
                    county=county,
                    brand=brand,
                    is_branch=is_branch,
                    owner_id=pk(owner),
                    troubled=rng.random() < 0.1,
                )
            )
    return found


def _next_ids(connection: Connection) -> _Ids:
    next_ids = {}
    for model in (Filing, FilingRevision, Document, FilingEvent, AuditEntry, ReviewDecision):
        table = table_of(model)
        next_ids[table.name] = (
            int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        )
    table = table_of(Receipt)
    next_ids["receipt"] = (
        int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    )
    return _Ids(next_ids)


def _finish_postgresql(connection: Connection) -> None:
    """Moves each id sequence past the ids given, so the service's inserts continue after them."""
    for model in BULK_TABLES:
        table = table_of(model)
        if "id" not in table.c:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def _save_counters(connection: Connection, counters: dict[tuple[str, int], int]) -> None:
    """The filing-number counters end at the last serial given, so new acceptances follow on."""
    table = table_of(FilingCounter)
    connection.execute(table.delete())
    connection.execute(
        table.insert(),
        [
            {"county_code": county, "year": year, "last_serial": serial}
            for (county, year), serial in sorted(counters.items())
        ],
    )


def _lapse_one_operator(session: Session, enterprises: list[_Enterprise], actor: User) -> list[str]:
    """Through the service: the smallest main-brand operator's licence is cancelled today, so
    its outlets in force lapse. Returns their receipt numbers (now `lapsed`)."""
    counts = dict(
        session.exec(
            select(Filing.enterprise_id, func.count())
            .where(Filing.status == FilingStatus.FILED)
            .group_by(col(Filing.enterprise_id))
        ).all()
    )
    candidates = [e for e in enterprises if e.brand == "DEPPON" and counts.get(e.id)]
    if not candidates:
        return []
    chosen = min(candidates, key=lambda e: counts[e.id])
    enterprise = session.get(Enterprise, chosen.id)
    assert enterprise is not None
    lapsed = actions.cancel_licence(session, enterprise, actor=actor, reason=LAPSE_REASON)
    return [
        rev.receipt_no
        for filing in lapsed
        if (rev := session.get(FilingRevision, filing.current_revision_id)) and rev.receipt_no
    ]


def seed_bulk(
    target: Engine | str,
    outlets: int,
    *,
    seed: int = 1,
    batch: int = 10_000,
    append: bool = False,
    lapse: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BulkReport:
    """Writes `outlets` filings with their whole history into the (migrated) database.

    Refuses (DatabaseNotEmpty) a database that holds accounts, enterprises or filings unless
    `append`. Regions are loaded when missing; brands come with the migrations.
    """
    started = time.perf_counter()
    engine = _engine(target)
    rng = random.Random(seed)
    now = clock.now().replace(microsecond=0)
    say = progress or (lambda _line: None)
    phases: dict[str, float] = {}
    with Session(engine, expire_on_commit=False) as session:
        if has_data(session) and not append:
            raise DatabaseNotEmpty("数据库已有数据（账号、企业或备案）")
        if session.exec(select(func.count()).select_from(Region)).one() == 0:
            regions.load_regions(session, regions.read_regions_csv(regions.DEFAULT_REGIONS_FILE))
            session.commit()
        tag = (
            ""
            if not has_data(session)
            else str(session.exec(select(func.count()).select_from(User)).one())
        )
        counties = dict(
            session.exec(
                select(Region.code, Region.name)
                .where(Region.level == RegionLevel.COUNTY)
                .order_by(col(Region.code))
            ).all()
        )
        township_rows = session.exec(
            select(Region).where(
                col(Region.level).in_([RegionLevel.TOWNSHIP, RegionLevel.SUBDISTRICT]),
                col(Region.parent_code).in_(list(counties)),
            )
        ).all()
        townships = zipf_townships(township_rows, rng)
        share: dict[str, float] = {}
        for township in townships:
            share[township.county] = share.get(township.county, 0.0) + township.weight
        county_share = {county: share[county] for county in counties if share.get(county)}
        counties = {code: counties[code] for code in county_share}
        region_names = dict(session.exec(select(Region.code, Region.name)).all())
        brand_names = dict(session.exec(select(Brand.code, Brand.name)).all())
        calendar = working_calendar.current(session)
        password_hash = hash_password(PASSWORD)
        registered_at = now - timedelta(days=HISTORY_DAYS + 40)
        with clock.frozen_at(registered_at):
            city_reviewer, reviewers = _staff(session, tag, password_hash, counties)
        enterprise_list = _enterprises(
            session,
            rng=rng,
            tag=tag,
            outlets=outlets,
            counties=counties,
            county_share=county_share,
            password_hash=password_hash,
            approver=city_reviewer,
            registered_at=registered_at + timedelta(days=1),
        )
        session.commit()
        phases["accounts"] = time.perf_counter() - started
        say(f"{len(enterprise_list)} enterprises and their owners registered and approved")

    samples = _store_samples()
    ring = signing.keyring()
    report = BulkReport(outlets=outlets, enterprises=len(enterprise_list), seconds=0.0)
    loading = time.perf_counter()
    with engine.connect() as connection:
        postgresql = connection.dialect.name == "postgresql"
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        if not postgresql:
            # This connection only: no fsync per commit and a large page cache while loading.
            dbapi.execute("PRAGMA synchronous=OFF")
            dbapi.execute("PRAGMA cache_size=-131072")
            dbapi.execute("PRAGMA temp_store=MEMORY")
        try:
            ids = _next_ids(connection)
            audit_last = connection.execute(
                select(table_of(AuditEntry).c.hash).order_by(table_of(AuditEntry).c.id.desc())
            ).first()
            counter_table = table_of(FilingCounter)
            counters = {
                (row.county_code, row.year): row.last_serial
                for row in connection.execute(counter_table.select())
            }
            connection.commit()
            generator = _Generator(
                rng=rng,
                now=now,
                outlets=outlets,
                townships=townships,
                enterprises=enterprise_list,
                reviewers=reviewers,
                region_names=region_names,
                brand_names=brand_names,
                calendar=_Calendar(calendar),
                samples=samples,
                ids=ids,
                counters=counters,
                audit_head=audit_last[0] if audit_last else GENESIS_HASH,
                ring=ring,
                authority=get_settings().receipt_authority,
            )
            writer = _Writer(connection)
            generating = 0.0

            def write(rows: dict[str, list[dict[str, Any]]], done: int) -> None:
                for model in BULK_TABLES:
                    name = table_of(model).name
                    table_started = time.perf_counter()
                    writer.write(name, rows.get(name, []))
                    report.rows[name] += len(rows.get(name, []))
                    report.write_seconds[name] = (
                        report.write_seconds.get(name, 0.0) + time.perf_counter() - table_started
                    )
                connection.commit()
                say(
                    f"{done}/{outlets} outlets, {report.total_rows} rows, "
                    f"{time.perf_counter() - loading:.1f}s"
                )

            # One batch is written (by the database, mostly: constraint checks, indexes,
            # triggers) while the next is generated (by Python): two cores instead of one.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer") as pool:
                pending: Future[None] | None = None
                for start in range(0, outlets, batch):
                    mark = time.perf_counter()
                    for index in range(start, min(start + batch, outlets)):
                        generator.outlet(index)
                    rows = generator.take_rows()
                    generating += time.perf_counter() - mark
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(write, rows, min(start + batch, outlets))
                if pending is not None:
                    pending.result()
            _save_counters(connection, counters)
            if postgresql:
                _finish_postgresql(connection)
            connection.commit()
            phases["generate"] = generating
            phases["write"] = sum(report.write_seconds.values())
        finally:
            if connection.in_transaction():
                connection.rollback()
            if not postgresql:
                dbapi.execute("PRAGMA synchronous=NORMAL")
                dbapi.execute("PRAGMA cache_size=-2000")
                dbapi.execute("PRAGMA temp_store=DEFAULT")
    report.statuses = generator.statuses
    report.receipts = generator.receipts
    report.samples = generator.samples_by_status

    if lapse:
        mark = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            reviewer = session.get(User, pk(city_reviewer))
            assert reviewer is not None
            lapsed = _lapse_one_operator(session, enterprise_list, reviewer)
            session.commit()
        if lapsed:
            report.statuses[FilingStatus.FILED.value] -= len(lapsed)
            report.statuses[FilingStatus.LAPSED.value] += len(lapsed)
            report.receipts["valid"] -= len(lapsed)
            report.receipts["lapsed"] += len(lapsed)
            report.samples["lapsed"] = lapsed[0]
        phases["lapse"] = time.perf_counter() - mark
        say(f"{len(lapsed)} outlets lapsed (their operator's licence cancelled)")

    mark = time.perf_counter()
    _analyze(engine)
    phases["analyze"] = time.perf_counter() - mark
    report.phases = phases
    report.seconds = time.perf_counter() - started
    return report


def _analyze(engine: Engine) -> None:
    """Planner statistics for the new data (and, on PostgreSQL, the visibility map), and the
    SQLite text index merged into one b-tree."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            connection.execute(text("NOTIFY receipt_changed"))
        return
    with engine.begin() as connection:
        if connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'public_outlet_fts'")
        ).first():
            connection.execute(
                text("INSERT INTO public_outlet_fts(public_outlet_fts) VALUES ('optimize')")
            )
        connection.execute(text("ANALYZE"))


def receipt_numbers(engine: Engine, *, limit: int | None = None) -> list[str]:
    """Receipt numbers in id order (for benchmarks that check receipts)."""
    table = table_of(Receipt)
    query = select(table.c.receipt_no).order_by(table.c.id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())
