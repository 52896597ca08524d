"""A believable Hezhou data set for demonstrations (`outlet-filing seed-demo`)."""

import hashlib
import io
import random
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from sqlmodel import Session, col, func, select
from stdnum.cn import ric, uscc

from core import clock
from core.config import get_settings
from core.storage import get_storage
from domain.vocabulary import (
    BusinessScope,
    DocumentKind,
    EnterpriseStatus,
    Outcome,
    OutletType,
    RegionLevel,
    Role,
)
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing
from models.inspection import Inspection, InspectionPlan
from models.region import Region
from models.user import User
from schemas.inspections import PlanCreate
from services.accounts import enterprises
from services.accounts import users as accounts
from services.filings import actions, documents
from services.inspections import directories, draws, plans, results

DEMO_PASSWORD = "Demo-2026!"

COUNTIES = {
    "451102": "八步区",
    "451103": "平桂区",
    "451121": "昭平县",
    "451122": "钟山县",
    "451123": "富川瑶族自治县",
}

# (brand code, enterprise name, county, is_branch)
DEMO_ENTERPRISES = [
    ("EMS", "中国邮政集团有限公司贺州市分公司", "451102", True),
    ("SF", "贺州顺丰速运有限公司", "451102", False),
    ("ZTO", "贺州市中通快递服务有限公司", "451103", False),
    ("YTO", "贺州圆通速递有限公司", "451102", False),
    ("STO", "贺州市申通快递有限公司", "451122", False),
    ("YUNDA", "贺州韵达快递服务有限公司", "451121", False),
    ("JT", "贺州极兔速递有限公司", "451123", False),
    ("JD", "贺州京东物流有限公司", "451102", False),  # its licence is cancelled: filings lapse
]
CANCELLED_BRAND = "JD"


def demo_uscc(serial: int) -> str:
    """A well-formed USCC (valid check digit) for demo enterprise number `serial`."""
    body = f"91451100MA5K{serial:05d}"
    return body + uscc.calc_check_digit(body)


@dataclass
class DemoLogin:
    username: str
    role: str
    scope: str


def database_is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def seed(session: Session) -> list[DemoLogin]:
    """Creates the demo data; the caller commits. Returns the logins to print."""
    logins, admin, reviewer_city = _seed_staff(session)
    logins += _seed_enterprises(session, approver=reviewer_city)
    seed_filings(session, reviewer_city)
    _cancel_one_licence(session, reviewer_city, logins)
    logins += seed_inspections(session, admin)
    return logins


def _staff(
    session: Session, username: str, role: Role, jurisdiction: str, display_name: str
) -> User:
    return accounts.create_user(
        session,
        username=username,
        password=DEMO_PASSWORD,
        role=role,
        jurisdiction=jurisdiction,
        display_name=display_name,
    )


def _seed_staff(session: Session) -> tuple[list[DemoLogin], User, User]:
    """The city's admin and reviewer, and a reviewer per county."""
    admin = _staff(session, "admin", Role.ADMIN, "451100", "贺州市邮政管理局管理员")
    reviewer_city = _staff(session, "reviewer", Role.REVIEWER, "451100", "贺州市邮政管理局审核员")
    logins = [
        DemoLogin("admin", Role.ADMIN, "451100 贺州市"),
        DemoLogin("reviewer", Role.REVIEWER, "451100 贺州市"),
    ]
    for code, name in COUNTIES.items():
        _staff(session, f"reviewer_{code}", Role.REVIEWER, code, f"{name}审核员")
        logins.append(DemoLogin(f"reviewer_{code}", Role.REVIEWER, f"{code} {name}"))
    return logins, admin, reviewer_city


def _seed_enterprises(session: Session, *, approver: User) -> list[DemoLogin]:
    """The main brands' enterprises (approved) and one registration still pending."""
    logins = []
    for serial, (brand, name, county, is_branch) in enumerate(DEMO_ENTERPRISES, start=1):
        username = f"op_{brand.lower()}"
        enterprise = enterprises.register(
            session,
            name=name,
            uscc=demo_uscc(serial),
            licence_no=f"桂邮{2018 + serial % 5}{serial:04d}",
            region_code=county,
            is_branch=is_branch,
            contact_name="李经理",
            contact_mobile=f"1387740{serial:04d}",
            username=username,
            password=DEMO_PASSWORD,
            # The licensed area is the city (the default when no regions are given).
            licence_valid_from=date(2018 + serial % 5, 3, 1),
            licence_valid_until=date(2028 + serial % 5, 2, 28),
        )
        enterprises.approve(session, enterprise, approver=approver)
        logins.append(DemoLogin(username, Role.OPERATOR, name))
    enterprises.register(
        session,
        name="贺州市德邦物流有限公司",
        uscc=demo_uscc(99),
        licence_no="桂邮20240099",
        region_code="451102",
        is_branch=False,
        contact_name="王经理",
        contact_mobile="13977400099",
        username="op_deppon",
        password=DEMO_PASSWORD,
    )
    logins.append(DemoLogin("op_deppon", "operator (pending approval)", "贺州市德邦物流有限公司"))
    return logins


def _cancel_one_licence(session: Session, reviewer: User, logins: list[DemoLogin]) -> None:
    """Two days ago one operator's licence was cancelled: its outlets lapsed."""
    name = dict((b, n) for b, n, _, _ in DEMO_ENTERPRISES)[CANCELLED_BRAND]
    cancelled = session.exec(select(Enterprise).where(Enterprise.name == name)).one()
    with clock.frozen_at(clock.now() - timedelta(days=2)):
        actions.cancel_licence(
            session, cancelled, actor=reviewer, reason="快递业务经营许可证被依法注销"
        )
    for login in logins:
        if login.username == f"op_{CANCELLED_BRAND.lower()}":
            login.role = "operator (licence cancelled)"


# --- double random ------------------------------------------------------------------------

INSPECTORS = [
    ("ZF45110001", "陈志强", "451100"),
    ("ZF45110002", "黄丽萍", "451100"),
    ("ZF45110003", "莫家豪", "451102"),
    ("ZF45110004", "钟秀兰", "451103"),
    ("ZF45110005", "李建华", "451121"),
    ("ZF45110006", "邓海燕", "451122"),
    ("ZF45110007", "覃明", "451123"),
    ("ZF45110008", "罗晓东", "451100"),
]
DEMO_FINDING = "收寄验视记录不全，已责令限期整改"
DEMO_SOURCES = [[4, 7, 2], [3, 9, 15, 21, 28, 33]]


def seed_inspections(session: Session, admin: User) -> list[DemoLogin]:
    """Inspectors (two with declared conflicts), a drawn city-wide plan, and some results."""
    logins, members = _seed_inspectors(session, admin)
    plan = _seed_drawn_plan(session, admin)
    _seed_results(session, plan, members)
    return logins


def _seed_inspectors(session: Session, admin: User) -> tuple[list[DemoLogin], dict[str, str]]:
    """The inspector directory with a login each; returns the logins and certificate → login."""
    uscc_of = {
        brand: session.exec(select(Enterprise.uscc).where(Enterprise.name == name)).one()
        for brand, name, _, _ in DEMO_ENTERPRISES
    }
    conflicts = {"ZF45110002": [uscc_of["SF"]], "ZF45110005": [uscc_of["ZTO"], uscc_of["YTO"]]}
    logins = []
    members = {}
    for number, (certificate_no, name, jurisdiction) in enumerate(INSPECTORS, start=1):
        username = f"inspector{number}"
        _staff(session, username, Role.INSPECTOR, jurisdiction, name)
        members[certificate_no] = username
        directories.create_inspector(
            session,
            admin=admin,
            name=name,
            certificate_no=certificate_no,
            jurisdiction="451100",
            active=True,
            conflicts=conflicts.get(certificate_no, []),
            username=username,
        )
        logins.append(DemoLogin(username, Role.INSPECTOR, f"{name} {certificate_no}"))
    return logins, members


def _seed_drawn_plan(session: Session, admin: User) -> InspectionPlan:
    today = clock.today()
    plan = plans.create_plan(
        session,
        admin=admin,
        body=PlanCreate.model_validate(
            {
                "name": f"{today.year} 年贺州市快递末端网点“双随机、一公开”抽查",
                "region_code": "451100",
                "item_codes": ["filing_compliance", "real_name", "security_equipment"],
                "sampling": {"mode": "rate", "rates": {"low": "0.1", "medium": "0.3", "high": "1"}},
                "team_size": 2,
                "exclude_recent_days": 365,
                "period_start": today - timedelta(days=20),
                "period_end": today + timedelta(days=20),
                "randomness_sources": (
                    "公告次日中国福利彩票“福彩3D”开奖号码；同日中国体育彩票“排列5”开奖号码"
                ),
            }
        ),
    )
    plans.announce(session, plan, admin=admin)
    draws.run_draw(session, plan, admin=admin, sources=DEMO_SOURCES)
    return plan


def _seed_results(session: Session, plan: InspectionPlan, members: dict[str, str]) -> None:
    """Results of the first four drawn outlets, recorded by their teams' first member."""
    today = clock.today()
    outcomes = [Outcome.NO_PROBLEM, Outcome.RECTIFICATION, Outcome.NO_PROBLEM, Outcome.CASE_FILED]
    drawn = session.exec(
        select(Inspection).where(Inspection.plan_id == plan.id).order_by(col(Inspection.m))
    ).all()
    for index, inspection in enumerate(drawn[: len(outcomes)]):
        user = session.exec(select(User).where(User.username == members[inspection.team[0]])).one()
        _, inspector = results.get_assigned(session, pk(inspection), user)
        results.record_result(
            session,
            inspection,
            inspector,
            inspected_on=today - timedelta(days=10 - index),
            outcome=outcomes[index],
            findings="" if outcomes[index] == Outcome.NO_PROBLEM else DEMO_FINDING,
            rectify_by=today + timedelta(days=20)
            if outcomes[index] == Outcome.RECTIFICATION
            else None,
        )


# --- outlets ------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁"
GIVEN = ["伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛"]
STREETS = ["新兴路", "建设路", "太白路", "民主街", "河东街", "中山路", "光明路", "江北路"]
# Townships left without an outlet, so coverage shows a believable gap (issue: every township).
# Remote ethnic townships (瑶族乡 and others) still without one: 51 of 57 covered.
UNCOVERED = {"451102200", "451103201", "451121201", "451121208", "451122201", "451123201"}
EXTRA_STATES = ["draft", "submitted", "returned", "overdue", "closed", "revoked", "filed"]


def sample_documents() -> dict[str, tuple[str, bytes]]:
    """Small real files: a one-page PDF, a JPEG and a PNG."""
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
        b"4 0 obj<</Length 52>>stream\nBT /F1 24 Tf 72 760 Td (Business licence - demo) Tj ET\n"
        b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    images = {}
    for fmt, colour in (("JPEG", (40, 90, 160)), ("PNG", (190, 60, 40))):
        image = Image.new("RGB", (120, 80), colour)
        ImageDraw.Draw(image).rectangle((10, 10, 110, 70), outline=(255, 255, 255), width=3)
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        images[fmt] = buffer.getvalue()
    return {
        "business_licence": ("营业执照.pdf", pdf),
        "id_document": ("负责人身份证.jpg", images["JPEG"]),
        "premises_photo": ("门头照片.png", images["PNG"]),
        "authorisation_letter": ("授权书.pdf", pdf),
        "cooperation_agreement": ("合作协议.pdf", pdf),
    }


def _store(content: bytes) -> tuple[str, int]:
    sha256 = hashlib.sha256(content).hexdigest()
    storage = get_storage()
    if not storage.exists(sha256):
        directory = get_settings().data_dir / "tmp"
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, delete=False) as handle:
            handle.write(content)
        storage.put_file(Path(handle.name), sha256)
    return sha256, len(content)


def _person(rng: random.Random) -> dict[str, str]:
    body = (
        f"4511{rng.choice(['02', '21', '22', '23'])}19{rng.randint(60, 99)}{rng.randint(1, 12):02d}"
    )
    body += f"{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "id_number": body + ric.calc_check_digit(body + "0"),
        "mobile": f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
    }


@dataclass(frozen=True)
class _Slot:
    """One demo outlet: where, which operator, and the state it is brought to."""

    index: int
    township: Region
    state: str
    operator: User
    enterprise: Enterprise
    brand: str


def _slots(session: Session) -> list[_Slot]:
    """Every covered township gets an outlet in force (some with a change under review); every
    third gets a second outlet in one of the other states, some of them the operator whose
    licence is cancelled later (its outlets lapse)."""
    demo_usccs = [demo_uscc(serial) for serial in range(1, len(DEMO_ENTERPRISES) + 1)]
    operators = session.exec(
        select(User, Enterprise)
        .join(Enterprise, col(Enterprise.id) == User.enterprise_id)
        .where(
            Enterprise.status == EnterpriseStatus.APPROVED,
            col(Enterprise.uscc).in_(demo_usccs),
        )
        .order_by(col(Enterprise.id))
    ).all()
    townships = session.exec(
        select(Region)
        .where(col(Region.level).in_([RegionLevel.TOWNSHIP, RegionLevel.SUBDISTRICT]))
        .order_by(col(Region.code))
    ).all()
    covered = [t for t in townships if t.code not in UNCOVERED]
    cancelled = len(operators) - 1  # the last demo enterprise (JD)
    placed: list[tuple[Region, str, int]] = []
    for i, township in enumerate(covered):
        placed.append((township, "change" if i % 9 == 4 else "filed", i % cancelled))
        if i % 3 == 0:
            state = EXTRA_STATES[(i // 3) % len(EXTRA_STATES)]
            to_lapse = state == "filed" or (i // 3) % 4 == 0
            placed.append((township, state, cancelled if to_lapse else (i + 3) % cancelled))
    return [
        _Slot(index, township, state, *operators[op], DEMO_ENTERPRISES[op][0])
        for index, (township, state, op) in enumerate(placed)
    ]


def filing_content(
    *,
    township: Region,
    operator_name: str,
    brand: str,
    index: int,
    opened: datetime,
    rng: random.Random,
) -> dict[str, Any]:
    """A believable filing body (SPEC §4.1) for the `index`-th demo outlet in `township`;
    every fifth is cooperative (with a partner)."""
    cooperative = index % 5 == 2
    outlet = {
        "name": f"{township.name}{operator_name[:4].replace('贺州', '')}快递服务站",
        "type": OutletType.COOPERATIVE if cooperative else OutletType.SELF_OPERATED,
        "scope": [BusinessScope.COLLECT, BusinessScope.DELIVER]
        if index % 4
        else [BusinessScope.DELIVER],
        "brands": [brand],
        "county_code": township.parent_code,
        "township_code": township.code,
        "address": f"{township.name}{rng.choice(STREETS)}{rng.randint(1, 188)}号",
        "opened_on": opened.date().isoformat(),
        "business_hours": "08:00-20:00",
        "floor_area_m2": float(rng.randint(15, 120)),
        "staff_count": rng.randint(1, 6),
        "has_cctv": index % 6 != 0,
    }
    raw: dict[str, Any] = {"outlet": outlet, "person_in_charge": _person(rng)}
    if cooperative:
        partner_body = f"92451100MA5L{index:05d}"
        raw["partner"] = {
            "name": f"{township.name}便民超市",
            "id_number_or_uscc": partner_body + uscc.calc_check_digit(partner_body),
            "mobile": f"139774{index:05d}",
        }
    return raw


def _attach_documents(
    session: Session, filing: Filing, slot: _Slot, samples: dict[str, tuple[str, str, int]]
) -> None:
    kinds = [DocumentKind.BUSINESS_LICENCE, DocumentKind.ID_DOCUMENT, DocumentKind.PREMISES_PHOTO]
    if slot.enterprise.is_branch:
        kinds.append(DocumentKind.AUTHORISATION_LETTER)
    if slot.index % 5 == 2:
        kinds.append(DocumentKind.COOPERATION_AGREEMENT)
    for kind in kinds:
        name, sha256, size = samples[kind]
        content_type = SNIFFED[name.rsplit(".", 1)[1]]
        documents.add_document(
            session,
            filing,
            actor=slot.operator,
            file=documents.StoredFile(kind, name, content_type, size, sha256),
        )


def _after_acceptance(
    session: Session, filing: Filing, slot: _Slot, reviewer: User, rng: random.Random, on: date
) -> None:
    """A filed outlet's later life: a change under review, closure or revocation."""
    if slot.state == "change":
        actions.open_new_change(
            session, filing, actor=slot.operator, changed_on=on, reason="负责人变更"
        )
        actions.update(
            session, filing, actor=slot.operator, patch={"person_in_charge": _person(rng)}
        )
        actions.submit(session, filing, actor=slot.operator)
    elif slot.state == "closed":
        actions.close(session, filing, actor=slot.operator, closed_on=on, reason="租约到期停业")
    elif slot.state == "revoked":
        actions.revoke(session, filing, reviewer=reviewer, reason="核查发现场所与备案信息不符")


RETURN_CORRECTIONS = [
    {"field": "outlet.address", "reason": "地址须写到门牌号"},
    {"document": "premises_photo", "reason": "门头照片须能看清招牌"},
]
SNIFFED = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def seed_filings(session: Session, reviewer: User) -> int:
    """Outlets in most townships, in every state, with a history spread over recent weeks."""
    rng = random.Random(20261129)
    samples = {
        kind: (name, *_store(content)) for kind, (name, content) in sample_documents().items()
    }
    now = clock.now()
    slots = _slots(session)
    for slot in slots:
        opened = now - timedelta(days=rng.randint(25, 400))
        late = slot.index % 9 == 4
        submitted_at = opened + timedelta(days=rng.randint(21, 40) if late else rng.randint(2, 18))
        if slot.state == "overdue":
            submitted_at = now - timedelta(days=16)
            opened = submitted_at - timedelta(days=5)
        submitted_at = min(submitted_at, now - timedelta(days=3))
        with clock.frozen_at(opened + timedelta(days=1)):
            filing = actions.create(
                session,
                operator=slot.operator,
                raw=filing_content(
                    township=slot.township,
                    operator_name=slot.enterprise.name,
                    brand=slot.brand,
                    index=slot.index,
                    opened=opened,
                    rng=rng,
                ),
            )
            if slot.state != "draft":
                _attach_documents(session, filing, slot, samples)
        if slot.state == "draft":
            continue
        with clock.frozen_at(submitted_at):
            actions.submit(session, filing, actor=slot.operator)
        if slot.state in ("submitted", "overdue"):
            continue
        decided_at = submitted_at + timedelta(days=rng.randint(1, 6))
        with clock.frozen_at(decided_at):
            if slot.state == "returned":
                actions.return_for_correction(
                    session, filing, reviewer=reviewer, corrections=RETURN_CORRECTIONS
                )
                continue
            actions.accept(session, filing, reviewer=reviewer)
        later = min(decided_at + timedelta(days=rng.randint(10, 60)), now - timedelta(days=1))
        with clock.frozen_at(later):
            _after_acceptance(session, filing, slot, reviewer, rng, later.date())
    return len(slots)
