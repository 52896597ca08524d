"""Pages for people: `/verify/{receipt_no}` is what a receipt's QR code opens on a phone."""

from html import escape
from string import Template
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import PublicReaderDep
from services import receipts, signing

router = APIRouter(tags=["pages"])

TYPE_NAMES = {"self_operated": "自营", "cooperative": "合作"}
STATUS_COLOURS = {
    "valid": "#137333",
    "superseded": "#b06000",
    "closed": "#5f6368",
    "revoked": "#c5221f",
    "lapsed": "#c5221f",
}
STATUS_NOTES = {
    "valid": "本回执有效，网点可凭此回执经营。",
    "superseded": "网点备案信息已变更，本回执已被新版回执取代。",
    "closed": "网点已停业，本回执不再有效。",
    "revoked": "本回执已被邮政管理部门撤销。",
    "lapsed": "开办者的快递业务经营许可已注销，本回执已失效。",
}

PAGE = Template(
    """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
background:#f4f6f8;color:#202124}
main{max-width:560px;margin:0 auto;padding:16px}
.badge{border-radius:12px;color:#fff;padding:20px;text-align:center;margin-bottom:16px}
.badge strong{display:block;font-size:34px;letter-spacing:4px}
.card{background:#fff;border-radius:12px;padding:8px 16px;margin-bottom:16px}
dl{display:grid;grid-template-columns:7em 1fr;gap:10px 8px;margin:12px 0}
dt{color:#5f6368}dd{margin:0;word-break:break-all}
footer{font-size:12px;color:#5f6368;line-height:1.6}
a{color:#1a73e8}
</style></head>
<body><main>$body</main></body></html>"""
)


def _rows(items: list[tuple[str, str]]) -> str:
    return "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in items)


def render_receipt(view: dict[str, Any]) -> str:
    status = view["status"]
    outlet = view["outlet"]
    place = f"{outlet.get('county_name', '')}{outlet.get('township_name', '')}{outlet['address']}"
    superseded = ""
    if view["current_receipt_no"]:
        current = escape(view["current_receipt_no"])
        superseded = f'<p>现行回执：<a id="current" href="/verify/{current}">{current}</a></p>'
    reason = f"<p>原因：{escape(view['reason'])}</p>" if view.get("reason") else ""
    details = _rows(
        [
            ("回执编号", escape(view["receipt_no"])),
            ("网点名称", escape(outlet["name"])),
            ("网点类型", escape(TYPE_NAMES.get(outlet["type"], outlet["type"]))),
            ("地址", escape(place)),
            ("服务品牌", escape("、".join(b["name"] for b in view["brands"]))),
            ("开办者", escape(view["operator"]["name"])),
            ("信用代码", escape(view["operator"]["uscc"])),
            ("备案日期", escape(view["issued_on"])),
            ("备案机关", escape(view["authority"])),
        ]
    )
    body = f"""
<div class="badge" id="status" data-status="{status}" style="background:{STATUS_COLOURS[status]}">
<strong>{escape(receipts.STATUS_LABELS[status])}</strong>
<span>{escape(STATUS_NOTES[status])}</span></div>
<div class="card">{superseded}{reason}<dl>{details}</dl></div>
<footer>快递末端网点备案回执核验 · 数据来自备案系统实时状态。<br>
回执附有电子签名，可用 <a href="/.well-known/jwks.json">公开密钥</a> 离线核验。</footer>"""
    return PAGE.substitute(title=f"回执核验 {escape(view['receipt_no'])}", body=body)


def render_not_found(receipt_no: str) -> str:
    body = f"""
<div class="badge" id="status" data-status="not_found" style="background:#5f6368">
<strong>查无此回执</strong><span>编号 {escape(receipt_no)} 不存在，请核对回执编号。</span></div>
<footer>如对网点备案情况有疑问，请联系当地邮政管理部门。</footer>"""
    return PAGE.substitute(title="查无此回执", body=body)


@router.get("/verify/{receipt_no}", response_class=HTMLResponse)
async def verify_page(reader: PublicReaderDep, receipt_no: str) -> HTMLResponse:
    """Public. The page a receipt's QR code opens: is this receipt in force?"""
    found = await reader.receipt(receipt_no)
    if found is None:
        return HTMLResponse(render_not_found(receipt_no), status_code=404)
    return HTMLResponse(render_receipt(found.as_dict()), headers={"Cache-Control": "no-cache"})


@router.get("/.well-known/jwks.json")
async def well_known_jwks() -> JSONResponse:
    """Public. The receipt signing keys (JWKS)."""
    return JSONResponse(signing.keyring().jwks(), headers={"Cache-Control": "public, max-age=300"})
