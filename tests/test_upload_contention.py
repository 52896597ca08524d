"""A slow upload holds no write lock while its body streams in (issue #10 item 3: no request may
stall or fail because another holds the lock). A phone on a weak connection sends a document
slowly; meanwhile another operator's edit completes at once. Before the fix the upload's
request began with BEGIN IMMEDIATE on SQLite, so the edit waited for the whole upload.

Data is committed in 富川 (451123) as drafts only.
"""

import threading
import time
from collections.abc import Iterator

import httpx

from core.db import session_scope
from core.security import create_access_token
from models.base import pk
from tests.factories import draft_via_services, make_enterprise, operator_of, sample_png

COUNTY, TOWNSHIP = "451123", "451123100"
STALL = 3.0  # seconds the uploading phone pauses mid-body
BOUNDARY = "slowphoneboundary"


def _drafts() -> tuple[tuple[int, str], tuple[int, str]]:
    """Two operators' drafts (filing id, operator token)."""
    drafts = []
    with session_scope() as session:
        for name in ("富川慢速上传网点", "富川同时修改网点"):
            operator = operator_of(session, make_enterprise(session, region_code=COUNTY))
            filing = draft_via_services(
                session, operator, county_code=COUNTY, township_code=TOWNSHIP, name=name
            )
            drafts.append((pk(filing), create_access_token(pk(operator))))
    return drafts[0], drafts[1]


def _slow_body(stalled: threading.Event) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\npremises_photo\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="shop.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    stalled.set()
    time.sleep(STALL)
    yield sample_png() + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_slow_upload_does_not_hold_up_another_write(live_server: str) -> None:
    (uploading, uploader), (editing, editor) = _drafts()
    stalled = threading.Event()
    upload_status: list[int] = []

    def upload() -> None:
        response = httpx.post(
            f"{live_server}/api/v1/filings/{uploading}/documents",
            content=_slow_body(stalled),
            headers={
                "Authorization": f"Bearer {uploader}",
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            timeout=30,
        )
        upload_status.append(response.status_code)

    phone = threading.Thread(target=upload)
    phone.start()
    assert stalled.wait(10)
    time.sleep(0.3)  # the upload's request is in its handler, mid-body
    started = time.monotonic()
    edit = httpx.patch(
        f"{live_server}/api/v1/filings/{editing}",
        json={"outlet": {"address": "富阳镇新兴路 1 号"}},
        headers={"Authorization": f"Bearer {editor}"},
        timeout=30,
    )
    waited = time.monotonic() - started
    phone.join(30)
    assert edit.status_code == 200
    assert waited < STALL / 2, f"the edit waited {waited:.1f} s behind the upload"
    assert upload_status == [201]
