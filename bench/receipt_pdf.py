"""Cost of one receipt PDF (A4, CJK text, QR code) and of one Ed25519 JWS signature, against a
baseline measured in the same run: serialising the receipt payload to canonical JSON.

    .venv/bin/python bench/receipt_pdf.py [N]
"""

import json
import statistics
import sys

from _setup import ms, timed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def main() -> None:
    from datetime import UTC, date, datetime

    from models.receipt import Receipt
    from services.receipts import pdf as receipt_pdf
    from services.receipts import signing

    payload = {
        "receipt_no": "451102-2026-000001-R1",
        "filing_no": "451102-2026-000001",
        "revision": 1,
        "issued_on": "2026-11-30",
        "authority": "贺州市邮政管理局",
        "outlet": {
            "name": "贺街镇顺丰快递服务站",
            "type": "self_operated",
            "scope": ["collect", "deliver"],
            "county_code": "451102",
            "county_name": "八步区",
            "township_code": "451102101",
            "township_name": "贺街镇",
            "address": "贺街镇河东街 12 号",
        },
        "operator": {"name": "贺州顺丰速运有限公司", "uscc": "91451100MA5K00002R"},
        "brands": [{"code": "SF", "name": "顺丰"}],
        "opened_on": "2026-11-20",
    }
    token, kid = signing.sign(payload)
    receipt = Receipt(
        receipt_no=str(payload["receipt_no"]),
        filing_id=1,
        revision_id=1,
        revision=1,
        issued_on=date(2026, 11, 30),
        issued_at=datetime.now(UTC),
        kid=kid,
        payload=signing.canonical(payload),
        jws=token,
    )
    baseline = timed(lambda: json.dumps(payload, ensure_ascii=False, sort_keys=True), N * 10)
    signatures = timed(lambda: signing.sign(payload), N * 10)
    pdfs = timed(lambda: receipt_pdf.render(receipt, person_in_charge="王五"), N)
    size = len(receipt_pdf.render(receipt, person_in_charge="王五"))
    base = statistics.median(baseline)
    print(f"canonical JSON of the payload (baseline): median {ms(base)}")
    print(
        f"JWS Ed25519 signature: median {ms(statistics.median(signatures))}  "
        f"ratio {statistics.median(signatures) / base:.0f}x"
    )
    print(
        f"receipt PDF ({size} bytes): median {ms(statistics.median(pdfs))}  "
        f"ratio {statistics.median(pdfs) / base:.0f}x"
    )


if __name__ == "__main__":
    main()
