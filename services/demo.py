"""A believable Hezhou data set for demonstrations (`outlet-filing seed-demo`)."""

from dataclasses import dataclass

from sqlmodel import Session, func, select
from stdnum.cn import uscc

from models.user import User
from services import accounts, enterprises

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
]


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
    logins: list[DemoLogin] = []
    accounts.create_user(
        session,
        username="admin",
        password=DEMO_PASSWORD,
        role="admin",
        jurisdiction="451100",
        display_name="贺州市邮政管理局管理员",
    )
    logins.append(DemoLogin("admin", "admin", "451100 贺州市"))
    reviewer_city = accounts.create_user(
        session,
        username="reviewer",
        password=DEMO_PASSWORD,
        role="reviewer",
        jurisdiction="451100",
        display_name="贺州市邮政管理局审核员",
    )
    logins.append(DemoLogin("reviewer", "reviewer", "451100 贺州市"))
    for code, name in COUNTIES.items():
        username = f"reviewer_{code}"
        accounts.create_user(
            session,
            username=username,
            password=DEMO_PASSWORD,
            role="reviewer",
            jurisdiction=code,
            display_name=f"{name}审核员",
        )
        logins.append(DemoLogin(username, "reviewer", f"{code} {name}"))
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
        )
        enterprises.approve(session, enterprise, approver=reviewer_city)
        logins.append(DemoLogin(username, "operator", name))
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
