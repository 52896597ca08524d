"""Plain factory functions: each builds one valid record, with keyword overrides."""

import itertools
from typing import Any

from sqlmodel import Session
from stdnum.cn import ric, uscc

from core.security import create_access_token
from models.enterprise import Enterprise
from models.user import User
from services import accounts, enterprises

PASSWORD = "Secret-pass-1"
_serial = itertools.count(1)


def valid_uscc(serial: int | None = None) -> str:
    body = f"91451100MA5T{(serial or next(_serial)):05d}"
    return body + uscc.calc_check_digit(body)


def valid_id_number(area: str = "451102", birth: str = "19850612", seq: str = "123") -> str:
    body = area + birth + seq
    return body + ric.calc_check_digit(body + "0")


def make_staff(
    session: Session, *, role: str = "reviewer", jurisdiction: str = "451100", **kwargs: Any
) -> User:
    n = next(_serial)
    return accounts.create_user(
        session,
        username=kwargs.pop("username", f"{role}{n}"),
        password=kwargs.pop("password", PASSWORD),
        role=role,
        jurisdiction=jurisdiction,
        display_name=kwargs.pop("display_name", f"{role} {n}"),
        **kwargs,
    )


def make_enterprise(
    session: Session, *, region_code: str = "451102", approved: bool = True, **kwargs: Any
) -> Enterprise:
    n = next(_serial)
    enterprise = enterprises.register(
        session,
        name=kwargs.pop("name", f"贺州测试快递有限公司{n}"),
        uscc=kwargs.pop("uscc", valid_uscc(n)),
        licence_no=kwargs.pop("licence_no", f"桂邮2020{n:04d}"),
        region_code=region_code,
        is_branch=kwargs.pop("is_branch", False),
        contact_name=kwargs.pop("contact_name", "张三"),
        contact_mobile=kwargs.pop("contact_mobile", "13800001234"),
        username=kwargs.pop("username", f"operator{n}"),
        password=kwargs.pop("password", PASSWORD),
    )
    if approved:
        approver = make_staff(session, role="admin", jurisdiction="450000")
        enterprises.approve(session, enterprise, approver=approver)
    return enterprise


def operator_of(session: Session, enterprise: Enterprise) -> User:
    from sqlmodel import select

    return session.exec(select(User).where(User.enterprise_id == enterprise.id)).one()


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_access_token(user.id)}"}
