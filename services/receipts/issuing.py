"""Filing receipts: issued with each acceptance, signed, and checkable by anyone.

A receipt's content is frozen at issue (payload + JWS); its status is derived on every read from
the filing: `valid` while its revision is the one in force and the filing is filed, `superseded`
once a later revision was accepted, otherwise the filing's end: `closed`, `revoked`, `lapsed`.
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from core import clock
from core.config import get_settings
from domain.errors import NotFound
from domain.vocabulary import FilingStatus, ReceiptStatus
from models.base import pk
from models.brand import Brand
from models.enterprise import Enterprise
from models.filing import Filing, FilingRevision
from models.receipt import Receipt
from models.region import Region
from services.receipts import signing

_ENDED = {
    FilingStatus.CLOSED: ReceiptStatus.CLOSED,
    FilingStatus.REVOKED: ReceiptStatus.REVOKED,
    FilingStatus.LAPSED: ReceiptStatus.LAPSED,
}


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
    assert rev.receipt_no is not None, "an accepted revision has its receipt number"
    issued_on = clock.today()
    payload = build_payload(session, filing, rev, enterprise, issued_on)
    token, kid = signing.sign(payload)
    receipt = Receipt(
        receipt_no=rev.receipt_no,
        filing_id=pk(filing),
        revision_id=pk(rev),
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


def announce_change(session: Session) -> None:
    """Tells every worker's receipt cache that a receipt's status may have changed.

    PostgreSQL delivers the NOTIFY when this transaction commits (not at all if it rolls back);
    SQLite needs nothing: readers see `PRAGMA data_version` move on any commit.
    """
    session.info["receipts_changed"] = True  # for this process's own cache, after commit
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("NOTIFY receipt_changed"))


def derive_status(*, revision_id: int, current_revision_id: int | None, filing_status: str) -> str:
    if current_revision_id != revision_id:
        return ReceiptStatus.SUPERSEDED
    return _ENDED.get(FilingStatus(filing_status), ReceiptStatus.VALID)


# Raw DBAPI SQL on the hot path: one indexed lookup, no ORM and no SQLAlchemy statement
# compilation (which costs more than the query itself). `{p}` is the driver's placeholder.
_STATUS_SQL = """
    SELECT r.receipt_no, r.revision_id, r.payload, r.jws, f.status, f.current_revision_id,
           f.end_reason, f.closed_on, cur.receipt_no
    FROM receipt AS r
    JOIN filing AS f ON f.id = r.filing_id
    LEFT JOIN filing_revision AS cur ON cur.id = f.current_revision_id
    WHERE r.receipt_no = {p}
"""
PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1"}


def status_sql(paramstyle: str) -> str:
    return _STATUS_SQL.format(p=PLACEHOLDERS[paramstyle])


# `{county}-{year}-{serial:06d}-R{revision}` (SPEC §5), e.g. `451102-2026-000001-R1`. Anything
# else is answered "not found" before any cache or database sees it.
_RECEIPT_NO = re.compile(r"[0-9]{6}-[0-9]{4}-[0-9]{6,9}-R[1-9][0-9]{0,5}")


def well_formed(receipt_no: str) -> bool:
    """Whether the text has the form of a receipt number (cheap: one compiled regex)."""
    return _RECEIPT_NO.fullmatch(receipt_no) is not None


@dataclass(frozen=True)
class FrozenReceipt:
    """The immutable part of a public check: what the receipt says, parsed and pre-encoded."""

    payload: dict[str, Any]
    jws: str
    fields: dict[str, Any]  # the static members of the public answer
    json_fields: bytes  # the same, encoded as JSON object members without the braces


@lru_cache(maxsize=65536)
def _freeze(payload_text: str, token: str) -> FrozenReceipt:
    # Keyed by the stored content itself, which never changes: nothing to invalidate.
    payload = json.loads(payload_text)
    fields = {
        "receipt_no": payload["receipt_no"],
        "filing_no": payload["filing_no"],
        "revision": payload["revision"],
        "outlet": payload["outlet"],
        "operator": payload["operator"],
        "brands": payload["brands"],
        "opened_on": payload["opened_on"],
        "issued_on": payload["issued_on"],
        "authority": payload["authority"],
        "jws": token,
    }
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return FrozenReceipt(payload=payload, jws=token, fields=fields, json_fields=encoded[1:-1])


@dataclass(frozen=True)
class ReceiptCheck:
    frozen: FrozenReceipt
    state: dict[str, Any]  # status, status_label, current_receipt_no, reason, closed_on

    def as_dict(self) -> dict[str, Any]:
        return {**self.frozen.fields, **self.state}

    def as_json(self) -> bytes:
        state = json.dumps(self.state, ensure_ascii=False, separators=(",", ":")).encode()
        return b"{" + self.frozen.json_fields + b"," + state[1:]


def check(dbapi_connection: Any, sql: str, receipt_no: str) -> ReceiptCheck | None:
    """The public check of a receipt: one indexed query for its current state (the hot path)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, (receipt_no,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    (
        number,
        revision_id,
        payload_text,
        token,
        filing_status,
        current_revision_id,
        end_reason,
        closed_on,
        current_receipt_no,
    ) = row
    status = derive_status(
        revision_id=revision_id,
        current_revision_id=current_revision_id,
        filing_status=filing_status,
    )
    state: dict[str, Any] = {
        "status": status,
        "status_label": ReceiptStatus(status).label,
        "current_receipt_no": (
            current_receipt_no
            if status == ReceiptStatus.SUPERSEDED and current_receipt_no != number
            else None
        ),
        "reason": end_reason
        if status in (ReceiptStatus.REVOKED, ReceiptStatus.LAPSED, ReceiptStatus.CLOSED)
        else None,
        "closed_on": str(closed_on)
        if status == ReceiptStatus.CLOSED and closed_on is not None
        else None,
    }
    return ReceiptCheck(frozen=_freeze(payload_text, token), state=state)


def check_in(connection: Connection, receipt_no: str) -> ReceiptCheck | None:
    """The same check inside an ORM session's connection (used by the owner's receipt view)."""
    sql = status_sql(connection.dialect.paramstyle)
    return check(connection.connection.dbapi_connection, sql, receipt_no)


def get_receipt(session: Session, receipt_no: str) -> Receipt:
    if not well_formed(receipt_no):
        raise NotFound("回执不存在")
    receipt = session.exec(select(Receipt).where(Receipt.receipt_no == receipt_no)).first()
    if receipt is None:
        raise NotFound("回执不存在")
    return receipt


def verify_url(receipt_no: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/verify/{receipt_no}"
