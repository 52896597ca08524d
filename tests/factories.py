"""Plain factory functions: each builds one valid record, with keyword overrides."""

import itertools
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session
from stdnum.cn import ric, uscc

from core.security import create_access_token
from models.base import pk
from models.enterprise import Enterprise
from models.filing import Filing
from models.inspection import Inspector
from models.user import User
from services.accounts import enterprises
from services.accounts import users as accounts
from services.filings import actions, documents
from services.inspections import directories

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
        username=kwargs.pop("username", f"{role}-{n}"),
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
    return {"Authorization": f"Bearer {create_access_token(pk(user))}"}


def problem(response: httpx.Response) -> tuple[int, str]:
    """(status, code) of a problem+json answer, to assert both at once."""
    return response.status_code, response.json()["code"]


# --- filings ------------------------------------------------------------------------------


def sample_png(size: tuple[int, int] = (8, 8)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def sample_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def sample_pdf(text: str = "licence") -> bytes:
    """A one-page PDF that parses (cross-reference table and all); `text` varies its hash."""
    return pdf_of(
        [
            b"<</Type/Catalog/Pages 2 0 R>>",
            b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
        ],
        comment=text,
    )


def pdf_of(objects: list[bytes], *, comment: str = "") -> bytes:
    """A PDF of the given objects (numbered from 1; object 1 is the catalog) with its xref."""
    out = bytearray(b"%PDF-1.4\n" + f"% {comment}\n".encode())
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj".encode() + body + b"endobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def filing_body(**outlet_overrides: Any) -> dict[str, Any]:
    outlet = {
        "name": "八步区贺街镇快递服务站",
        "type": "self_operated",
        "scope": ["collect", "deliver"],
        "brands": ["SF"],
        "county_code": "451102",
        "township_code": "451102101",
        "address": "贺街镇河东街 12 号",
        "opened_on": "2026-11-20",
        "business_hours": "08:00-20:00",
        "floor_area_m2": 45.5,
        "staff_count": 3,
        "has_cctv": True,
    }
    outlet.update(outlet_overrides)
    return {
        "outlet": outlet,
        "person_in_charge": {
            "name": "王五",
            "id_number": valid_id_number(),
            "mobile": "13977401234",
        },
    }


REQUIRED_UPLOADS = (
    ("business_licence", "licence.pdf", "pdf"),
    ("id_document", "id.jpg", "jpeg"),
    ("premises_photo", "shop.png", "png"),
)


def upload(
    client: TestClient, filing_id: int, user: User, kind: str, filename: str, content: bytes
) -> httpx.Response:
    return client.post(
        f"/api/v1/filings/{filing_id}/documents",
        data={"kind": kind},
        files={"file": (filename, content, "application/octet-stream")},
        headers=auth(user),
    )


def upload_required(client: TestClient, filing_id: int, user: User) -> None:
    samples = {"pdf": sample_pdf, "jpeg": sample_jpeg, "png": sample_png}
    for kind, filename, sample in REQUIRED_UPLOADS:
        response = upload(client, filing_id, user, kind, filename, samples[sample]())
        assert response.status_code == 201, response.text


def create_draft(client: TestClient, operator: User, **outlet_overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/filings", json=filing_body(**outlet_overrides), headers=auth(operator)
    )
    assert response.status_code == 201, response.text
    return response.json()


def submitted_filing(client: TestClient, operator: User, **outlet_overrides: Any) -> dict[str, Any]:
    filing = create_draft(client, operator, **outlet_overrides)
    upload_required(client, filing["id"], operator)
    response = client.post(f"/api/v1/filings/{filing['id']}/submit", headers=auth(operator))
    assert response.status_code == 200, response.text
    return response.json()


def filed_filing(
    client: TestClient, operator: User, reviewer: User, **outlet_overrides: Any
) -> dict[str, Any]:
    filing = submitted_filing(client, operator, **outlet_overrides)
    response = client.post(
        f"/api/v1/filings/{filing['id']}/review",
        json={"decision": "accept"},
        headers=auth(reviewer),
    )
    assert response.status_code == 200, response.text
    return response.json()


def draft_via_services(session: Session, operator: User, **outlet_overrides: Any) -> Filing:
    """A draft holding the three always-required documents, built with the services directly
    (fast set-up, and usable under a frozen clock or outside a request)."""

    filing = actions.create(session, operator=operator, raw=filing_body(**outlet_overrides))
    for kind, _filename, _sample in REQUIRED_UPLOADS:
        documents.add_document(
            session,
            filing,
            actor=operator,
            file=documents.StoredFile(kind, f"{kind}.pdf", "application/pdf", 10, "a" * 64),
        )
    return filing


def submitted_via_services(session: Session, operator: User, **outlet_overrides: Any) -> Filing:
    """`draft_via_services`, then submitted."""

    filing = draft_via_services(session, operator, **outlet_overrides)
    actions.submit(session, filing, actor=operator)
    return filing


def filed_via_services(
    session: Session, operator: User, reviewer: User, **outlet_overrides: Any
) -> Filing:
    """`submitted_via_services`, then accepted by `reviewer`: create, upload, submit, accept."""

    filing = submitted_via_services(session, operator, **outlet_overrides)
    actions.accept(session, filing, reviewer=reviewer)
    return filing


def make_inspector(
    session: Session,
    admin: User,
    certificate_no: str,
    *,
    conflicts: list[str] | None = None,
    jurisdiction: str = "451100",
) -> tuple[Inspector, User]:
    """An inspector in the directory, with its `inspector` login."""
    user = make_staff(session, role="inspector", jurisdiction=jurisdiction)
    inspector = directories.create_inspector(
        session,
        admin=admin,
        name=f"检查员{certificate_no}",
        certificate_no=certificate_no,
        jurisdiction=jurisdiction,
        active=True,
        conflicts=conflicts or [],
        username=user.username,
    )
    return inspector, user
