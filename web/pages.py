"""Pages for people: `/verify/{receipt_no}` is what a receipt's QR code opens on a phone.

HTML comes from Jinja2 templates with autoescaping on; no value reaches a page unescaped.
"""

from collections import OrderedDict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from domain.vocabulary import OutletType, ReceiptStatus
from services.receipts import signing
from services.receipts.issuing import ReceiptCheck
from web.deps import PublicReaderDep
from web.templating import static_files, templates

__all__ = ["docs_router", "router", "static_files"]


RENDERED_PAGES = 10_000
router = APIRouter(tags=["pages"])
docs_router = APIRouter(tags=["pages"], include_in_schema=False)

STATUS_NOTES = {
    ReceiptStatus.VALID: "本回执有效，网点可凭此回执经营。",
    ReceiptStatus.SUPERSEDED: "网点备案信息已变更，本回执已被新版回执取代。",
    ReceiptStatus.CLOSED: "网点已停业，本回执不再有效。",
    ReceiptStatus.REVOKED: "本回执已被邮政管理部门撤销。",
    ReceiptStatus.LAPSED: "开办者的快递业务经营许可已注销，本回执已失效。",
}


@router.get("/verify/{receipt_no}", response_class=HTMLResponse)
async def verify_page(request: Request, reader: PublicReaderDep, receipt_no: str) -> HTMLResponse:
    """Public. The page a receipt's QR code opens: is this receipt in force?"""
    found = await reader.receipt(receipt_no)
    if found is None:
        return templates.TemplateResponse(
            request, "verify_not_found.html", {"receipt_no": receipt_no}, status_code=404
        )
    return HTMLResponse(_receipt_page(found), headers={"Cache-Control": "no-cache"})


_rendered: OrderedDict[int, tuple[ReceiptCheck, str]] = OrderedDict()


def _receipt_page(found: ReceiptCheck) -> str:
    """The page for one answer of the reader. The reader hands out the same answer object until
    the receipt's state may have changed, so the page is rendered once per answer (a hot path:
    every scan of a QR code)."""
    cached = _rendered.get(id(found))
    if cached is not None and cached[0] is found:
        _rendered.move_to_end(id(found))
        return cached[1]
    receipt = found.as_dict()
    status = ReceiptStatus(receipt["status"])
    html = templates.get_template("verify.html").render(
        receipt=receipt,
        status_note=STATUS_NOTES[status],
        type_label=OutletType(receipt["outlet"]["type"]).label,
    )
    _rendered[id(found)] = (found, html)
    if len(_rendered) > RENDERED_PAGES:
        _rendered.popitem(last=False)
    return html


@router.get("/.well-known/jwks.json")
async def well_known_jwks() -> JSONResponse:
    """Public. The receipt signing keys (JWKS)."""
    return JSONResponse(signing.keyring().jwks(), headers={"Cache-Control": "public, max-age=300"})


@docs_router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """Public (unless DOCS_ENABLED=false). Swagger UI over /openapi.json, served from here."""
    return templates.TemplateResponse(request, "docs.html", {"openapi_url": "/openapi.json"})
