import json

from fastapi import APIRouter, Request, Response

from api.deps import AnyUser, SessionDep
from models.receipt import Receipt
from schemas.receipts import ReceiptDetail
from services.receipts import issuing
from services.receipts import pdf as receipt_pdf

router = APIRouter(prefix="/receipts", tags=["receipts"])


def _visible_receipt(session: SessionDep, user: AnyUser, receipt_no: str) -> Receipt:
    return receipt_pdf.visible_receipt(session, user, receipt_no)  # 404 unless it may see it


@router.get("/{receipt_no}", response_model=ReceiptDetail)
def get_receipt(session: SessionDep, user: AnyUser, receipt_no: str) -> ReceiptDetail:
    """The receipt with its signed JWS (owner, or reviewer/admin covering the outlet)."""
    receipt = _visible_receipt(session, user, receipt_no)
    found = issuing.check_in(session.connection(), receipt_no)
    assert found is not None
    return ReceiptDetail(
        **found.as_dict(),
        filing_id=receipt.filing_id,
        kid=receipt.kid,
        payload=json.loads(receipt.payload),
    )


@router.get(
    "/{receipt_no}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 304: {"description": "unchanged"}},
)
def receipt_pdf_file(
    session: SessionDep, user: AnyUser, receipt_no: str, request: Request
) -> Response:
    """The printable A4 receipt with its QR code; the same bytes every time (ETag, 304)."""
    receipt = _visible_receipt(session, user, receipt_no)
    tag = receipt_pdf.etag(receipt)
    headers = {"ETag": tag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    content = receipt_pdf.render_stored(session, receipt)
    headers["Content-Disposition"] = f'inline; filename="{receipt_no}.pdf"'
    return Response(content, media_type="application/pdf", headers=headers)
