"""The printable receipt: A4, Chinese, rendered only from the stored receipt (so every rendering
of one receipt is byte-identical), with a QR code of its public verification URL.

The text uses STSong-Light, one of the standard CJK fonts every PDF reader provides (Adobe's
Asian font set), so nothing needs to be shipped or installed and the text stays extractable.
"""

import hashlib
import io
import json
from typing import Any

import qrcode
from qrcode.image.pil import PilImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from sqlmodel import Session

from domain.vocabulary import BusinessScope, OutletType
from models.filing import FilingRevision
from models.receipt import Receipt
from models.user import User
from services.filings import access
from services.receipts.issuing import get_receipt, verify_url

FONT = "STSong-Light"
RENDERER_VERSION = "3"  # bump when the layout or wording changes, so cached PDFs and ETags renew
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

STATEMENT = (
    "本网点已向邮政管理部门备案。在本回执有效期间，本网点凭此回执可不办理营业执照，"
    "从事快递末端网点{scope}服务。"
)


def statement(scope: list[str]) -> str:
    """The statement, naming only the services the outlet was filed for (收寄, 投递 or both)."""
    order = list(BusinessScope)
    labels = "、".join(s.label for s in sorted({BusinessScope(s) for s in scope}, key=order.index))
    return STATEMENT.format(scope=labels)


def etag(receipt: Receipt) -> str:
    digest = hashlib.sha256(f"{RENDERER_VERSION}:{receipt.jws}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def qr_png(url: str) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, FONT, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


MARGIN = 25 * mm
LABEL_WIDTH = 38 * mm
QR_SIZE = 38 * mm
BODY_TOP = A4[1] - 60 * mm


def _detail_rows(payload: dict[str, Any], person: str) -> list[tuple[str, str]]:
    outlet = payload["outlet"]
    return [
        ("备案编号", payload["filing_no"]),
        ("网点名称", outlet["name"]),
        ("网点类型", OutletType(outlet["type"]).label),
        ("业务范围", "、".join(BusinessScope(s).label for s in outlet["scope"])),
        ("所在地", f"{outlet.get('county_name', '')}{outlet.get('township_name', '')}"),
        ("详细地址", outlet["address"]),
        ("服务品牌", "、".join(brand["name"] for brand in payload["brands"])),
        ("开办者", payload["operator"]["name"]),
        ("统一社会信用代码", payload["operator"]["uscc"]),
        ("网点负责人", person),
        ("开办日期", payload["opened_on"]),
        ("备案日期", payload["issued_on"]),
        ("备案版本", f"第 {payload['revision']} 版"),
    ]


def _draw_heading(pdf: canvas.Canvas, receipt_no: str) -> None:
    width, height = A4
    pdf.setFont(FONT, 22)
    pdf.drawCentredString(width / 2, height - 35 * mm, "快递末端网点备案回执")
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width / 2, height - 44 * mm, f"回执编号：{receipt_no}")
    pdf.line(MARGIN, height - 49 * mm, width - MARGIN, height - 49 * mm)


def _draw_details(pdf: canvas.Canvas, rows: list[tuple[str, str]], text: str) -> None:
    """The labelled rows (values wrapped clear of the QR code), then the statement."""
    left, right = MARGIN, A4[0] - MARGIN
    y = BODY_TOP
    for label, value in rows:
        pdf.setFont(FONT, 11)
        pdf.drawString(left, y, f"{label}：")
        for index, line in enumerate(_wrap(str(value), right - left - LABEL_WIDTH - 40 * mm, 11)):
            pdf.drawString(left + LABEL_WIDTH, y - index * 5.5 * mm, line)
            if index:
                y -= 5.5 * mm
        y -= 8 * mm
    y -= 4 * mm
    pdf.setFont(FONT, 11)
    for line in _wrap(text, right - left, 11):
        pdf.drawString(left, y, line)
        y -= 6 * mm


def _draw_qr(pdf: canvas.Canvas, url: str) -> None:
    right = A4[0] - MARGIN
    image = ImageReader(io.BytesIO(qr_png(url)))
    pdf.drawImage(image, right - QR_SIZE, BODY_TOP - QR_SIZE, QR_SIZE, QR_SIZE)
    pdf.setFont(FONT, 8)
    pdf.drawRightString(right, BODY_TOP - 4 * mm - QR_SIZE, "扫码核验回执状态")


def _draw_signature_and_footer(
    pdf: canvas.Canvas, receipt: Receipt, payload: dict[str, Any], url: str
) -> None:
    right = A4[0] - MARGIN
    pdf.setFont(FONT, 12)
    pdf.drawRightString(right, 62 * mm, f"{payload['authority']}（备案机关）")
    pdf.drawRightString(right, 54 * mm, payload["issued_on"])
    pdf.setFont(FONT, 8)
    footer = [
        f"在线核验：{url}",
        f"本回执附有电子签名（JWS，Ed25519，密钥标识 {receipt.kid}），"
        "可用公开密钥集离线核验：/.well-known/jwks.json",
        "回执状态以在线核验结果为准：有效、已变更、已停业、已撤销或已失效。",
    ]
    for index, line in enumerate(footer):
        pdf.drawString(MARGIN, 30 * mm - index * 4.5 * mm, line)


def render(receipt: Receipt, *, person_in_charge: str) -> bytes:
    """The printable A4 receipt: the signed payload's data, the statement, a QR code of the
    verify page and the issuing authority (SPEC §5)."""
    payload: dict[str, Any] = json.loads(receipt.payload)
    url = verify_url(receipt.receipt_no)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(f"快递末端网点备案回执 {receipt.receipt_no}")
    pdf.setAuthor(payload["authority"])
    _draw_heading(pdf, receipt.receipt_no)
    _draw_details(
        pdf, _detail_rows(payload, person_in_charge), statement(payload["outlet"]["scope"])
    )
    _draw_qr(pdf, url)
    _draw_signature_and_footer(pdf, receipt, payload, url)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def visible_receipt(session: Session, user: User, receipt_no: str) -> Receipt:
    """The receipt when `user` may see its filing (owner, or staff covering it); else 404."""
    receipt = get_receipt(session, receipt_no)
    access.get_for(session, receipt.filing_id, user)
    return receipt


def render_stored(session: Session, receipt: Receipt) -> bytes:
    """`render` with the person in charge of the receipt's revision (the API's and the
    operator page's download)."""
    revision = session.get(FilingRevision, receipt.revision_id)
    assert revision is not None
    return render(receipt, person_in_charge=revision.person_in_charge["name"])
