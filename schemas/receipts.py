from datetime import date
from typing import Any

from pydantic import BaseModel

from domain.vocabulary import ReceiptStatus


class PublicReceipt(BaseModel):
    """What anyone sees when checking a receipt. No personal data."""

    receipt_no: str
    status: ReceiptStatus
    status_label: str
    filing_no: str
    revision: int
    outlet: dict[str, Any]
    operator: dict[str, str]
    brands: list[dict[str, str]]
    opened_on: date
    issued_on: date
    authority: str
    jws: str
    current_receipt_no: str | None
    reason: str | None
    closed_on: date | None


class ReceiptDetail(PublicReceipt):
    filing_id: int
    kid: str
    payload: dict[str, Any]


class PublicOutletItem(BaseModel):
    filing_no: str
    receipt_no: str
    name: str
    type: str
    scope: list[str]
    brands: list[dict[str, str]]  # [{code, name}] (SPEC §4.1)
    county_code: str
    county_name: str
    township_code: str
    township_name: str
    address: str
    operator: dict[str, str]
    person_in_charge: dict[str, str]
    opened_on: date
    issued_on: date


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, str]]
