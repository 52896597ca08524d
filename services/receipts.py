"""Filing receipts: issued with each acceptance, signed, and checkable by anyone.

A receipt's content is frozen at issue (payload + JWS); its status is derived on every read from
the filing: `valid` while its revision is the one in force and the filing is filed, `superseded`
once a later revision was accepted, otherwise the filing's end: `closed`, `revoked`, `lapsed`.
"""

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from models.brand import Brand
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from models.receipt import Receipt
from models.region import Region
from services import signing
from services.errors import NotFound

STATUS_LABELS = {
    "valid": "有效",
    "superseded": "已变更",
    "closed": "已停业",
    "revoked": "已撤销",
    "lapsed": "已失效",
}
_ENDED = {"closed": "closed", "revoked": "revoked", "lapsed": "lapsed", "filed": "valid"}


def build_payload(
    session: Session, filing: Filing, rev: FilingRevision, enterprise: Enterprise, issued_on: date
) -> dict[str, Any]:
    """What the receipt certifies. No personal ID numbers or phone numbers."""
    outlet = rev.outlet
    names = dict(
        session.exec(
            select(Region.code, Region.name).where(
                col(Region.code).in_([rev.county_code, rev.township_code])
            )
        ).all()
    )
    brand_names = dict(
        session.exec(
            select(Brand.code, Brand.name).where(col(Brand.code).in_(outlet["brands"]))
        ).all()
    )
    return {
        "receipt_no": rev.receipt_no,
        "filing_no": filing.filing_no,
        "revision": rev.number,
        "issued_on": issued_on.isoformat(),
        "authority": get_settings().receipt_authority,
        "outlet": {
            "name": outlet["name"],
            "type": outlet["type"],
            "scope": outlet["scope"],
            "county_code": rev.county_code,
            "county_name": names.get(rev.county_code, ""),
            "township_code": rev.township_code,
            "township_name": names.get(rev.township_code, ""),
            "address": outlet["address"],
        },
        "operator": {"name": enterprise.name, "uscc": enterprise.uscc},
        "brands": [
            {"code": code, "name": brand_names.get(code, code)} for code in outlet["brands"]
        ],
        "opened_on": outlet["opened_on"],
    }


def issue(session: Session, filing: Filing, rev: FilingRevision, enterprise: Enterprise) -> Receipt:
    """Signs and stores the receipt of an accepted revision (same transaction as the acceptance)."""
    issued_on = clock.today()
    payload = build_payload(session, filing, rev, enterprise, issued_on)
    token, kid = signing.sign(payload)
    receipt = Receipt(
        receipt_no=rev.receipt_no,  # type: ignore[arg-type]
        filing_id=filing.id,  # type: ignore[arg-type]
        revision_id=rev.id,  # type: ignore[arg-type]
        revision=rev.number,
        issued_on=issued_on,
        issued_at=clock.now(),
        kid=kid,
        payload=signing.canonical(payload),
        jws=token,
    )
    session.add(receipt)
    session.flush()
    return receipt


def derive_status(*, revision_id: int, current_revision_id: int | None, filing_status: str) -> str:
    if current_revision_id != revision_id:
        return "superseded"
    return _ENDED.get(filing_status, "valid")


_STATUS_QUERY = text(
    """
    SELECT r.receipt_no, r.revision_id, r.payload, r.jws, f.status, f.current_revision_id,
           f.end_reason, f.closed_on, cur.receipt_no AS current_receipt_no
    FROM receipt AS r
    JOIN filing AS f ON f.id = r.filing_id
    LEFT JOIN filing_revision AS cur ON cur.id = f.current_revision_id
    WHERE r.receipt_no = :receipt_no
    """
)


def public_view(connection: Connection, receipt_no: str) -> dict[str, Any] | None:
    """The public check of a receipt in one indexed query (the hot path: no ORM, no session)."""
    row = connection.execute(_STATUS_QUERY, {"receipt_no": receipt_no}).first()
    if row is None:
        return None
    payload = json.loads(row.payload)
    status = derive_status(
        revision_id=row.revision_id,
        current_revision_id=row.current_revision_id,
        filing_status=row.status,
    )
    view: dict[str, Any] = {
        "receipt_no": row.receipt_no,
        "status": status,
        "status_label": STATUS_LABELS[status],
        "filing_no": payload["filing_no"],
        "revision": payload["revision"],
        "outlet": payload["outlet"],
        "operator": payload["operator"],
        "brands": payload["brands"],
        "opened_on": payload["opened_on"],
        "issued_on": payload["issued_on"],
        "authority": payload["authority"],
        "jws": row.jws,
        "current_receipt_no": None,
        "reason": None,
        "closed_on": None,
    }
    if status == "superseded" and row.current_receipt_no != row.receipt_no:
        view["current_receipt_no"] = row.current_receipt_no
    if status in ("revoked", "lapsed", "closed"):
        view["reason"] = row.end_reason
    if status == "closed" and row.closed_on is not None:
        view["closed_on"] = str(row.closed_on)
    return view


def get_receipt(session: Session, receipt_no: str) -> Receipt:
    receipt = session.exec(select(Receipt).where(Receipt.receipt_no == receipt_no)).first()
    if receipt is None:
        raise NotFound("回执不存在")
    return receipt


def verify_url(receipt_no: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/verify/{receipt_no}"
