"""Issue #11, names and time (SPEC §4.1): dates are Beijing dates, CSVs show Beijing time, and
the directory, its CSV and the stats CSVs speak names as well as codes."""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from core.spreadsheet import to_csv
from models.user import User
from tests.api.test_stats import StatsData, data, on  # noqa: F401 (`data` is a fixture)
from tests.factories import auth, filed_filing, make_staff, submitted_filing

# 2026-12-01 01:30 in Beijing, still 2026-11-30 in UTC.
JUST_AFTER_MIDNIGHT_IN_BEIJING = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with clock.frozen_at(moment):
        yield


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _table(client: TestClient, user: User, table: str) -> list[dict[str, str]]:
    response = client.get(f"/api/v1/stats/overview/{table}.csv", headers=auth(user))
    assert response.status_code == 200, response.text
    header, *rows = _rows(response.content)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --- dates are Beijing dates -----------------------------------------------------------------


def test_directory_issued_on_is_the_beijing_date_like_the_receipt(
    client: TestClient, operator: User, reviewer: User
) -> None:
    with at(JUST_AFTER_MIDNIGHT_IN_BEIJING):
        filed_filing(client, operator, reviewer, name="北京时间日期测试站")
        items = client.get("/api/v1/public/outlets", params={"q": "北京时间日期"}).json()["items"]
    assert [item["issued_on"] for item in items] == ["2026-12-01"]
    receipt = client.get(f"/api/v1/public/receipts/{items[0]['receipt_no']}").json()
    assert receipt["issued_on"] == "2026-12-01"

    csv_rows = _rows(client.get("/api/v1/public/outlets.csv", params={"q": "北京时间日期"}).content)
    assert csv_rows[1][csv_rows[0].index("备案日期")] == "2026-12-01"


# --- CSVs show Beijing time ------------------------------------------------------------------


def test_csv_writes_datetimes_in_beijing_time_to_the_minute_and_dates_as_iso() -> None:
    text = to_csv(
        ["时间", "无时区时间", "日期"],
        [
            [
                datetime(2025, 12, 25, 21, 11, 39, 400487, tzinfo=UTC),
                datetime(2025, 12, 25, 13, 0, 5),  # stored UTC, read back naive (SQLite)
                datetime(2025, 12, 26).date(),
            ]
        ],
    )
    assert _rows(text.encode())[1] == ["2025-12-26 05:11", "2025-12-25 21:00", "2025-12-26"]


def test_overdue_submissions_csv_shows_the_submission_in_beijing_time(
    client: TestClient, operator: User, reviewer: User
) -> None:
    with at(JUST_AFTER_MIDNIGHT_IN_BEIJING):
        submitted_filing(client, operator, name="逾期北京时间测试站")
    with at(datetime(2026, 12, 21, 2, 0, tzinfo=UTC)):
        rows = _table(client, reviewer, "overdue-submissions")
    [row] = [row for row in rows if row["网点名称"] == "逾期北京时间测试站"]
    assert row["提交时间"] == "2026-12-01 01:30"
    assert row["区县代码"] == "451102"
    assert row["区县"] == "八步区"


# --- names as well as codes ------------------------------------------------------------------


def test_directory_items_carry_county_township_and_brand_names(
    client: TestClient, session: Session, operator: User, fixed_clock: datetime
) -> None:
    city = make_staff(session, role="reviewer", jurisdiction="451100")
    filed_filing(client, operator, city, name="名称字段测试站", brands=["SF", "ZTO"])
    [item] = client.get("/api/v1/public/outlets", params={"q": "名称字段测试"}).json()["items"]
    assert item["county_code"] == "451102"
    assert item["county_name"] == "八步区"
    assert item["township_code"] == "451102101"
    assert item["township_name"] == "贺街镇"
    assert item["brands"] == [{"code": "SF", "name": "顺丰"}, {"code": "ZTO", "name": "中通"}]

    header, *rows = _rows(
        client.get("/api/v1/public/outlets.csv", params={"q": "名称字段测试"}).content
    )
    row = dict(zip(header, rows[0], strict=True))
    assert row["区县代码"] == "451102"
    assert row["区县"] == "八步区"
    assert row["乡镇（街道）"] == "贺街镇"
    assert row["服务品牌"] == "SF,ZTO"
    assert row["服务品牌名称"] == "顺丰、中通"
    assert rows[0][2] == "名称字段测试站"  # the original columns keep their places


def test_directory_q_matches_filing_and_receipt_numbers(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_filing(client, operator, reviewer, name="编号检索甲站")
    filed_filing(client, operator, reviewer, name="编号检索乙站")
    items = client.get("/api/v1/public/outlets", params={"q": "编号检索", "limit": 200}).json()[
        "items"
    ]
    second = next(item for item in items if item["name"] == "编号检索乙站")

    def names(q: str) -> list[str]:
        response = client.get("/api/v1/public/outlets", params={"q": q})
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert names(second["filing_no"]) == ["编号检索乙站"]
    assert names(second["receipt_no"]) == ["编号检索乙站"]
    assert names(second["receipt_no"].lower()) == ["编号检索乙站"]
    assert names(second["filing_no"] + "9") == []
    # with another filter too
    response = client.get(
        "/api/v1/public/outlets", params={"q": second["filing_no"], "county": "451102"}
    )
    assert [item["name"] for item in response.json()["items"]] == ["编号检索乙站"]


def test_stats_csvs_carry_names_and_chinese_labels(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_filing(client, operator, reviewer, name="统计名称测试站", brands=["SF"])
    by_status = _table(client, reviewer, "filings-by-status")
    filed = next(row for row in by_status if row["状态"] == "filed")
    assert filed["状态名称"] == "已备案"
    by_county = _table(client, reviewer, "filings-by-county")
    assert {row["区县代码"]: row["区县"] for row in by_county}["451102"] == "八步区"
    by_brand = _table(client, reviewer, "filings-by-brand")
    assert {row["品牌"]: row["品牌名称"] for row in by_brand}["SF"] == "顺丰"


def test_inspection_outcomes_csv_writes_the_chinese_label(
    client: TestClient,
    data: StatsData,  # noqa: F811 (the fixture imported from test_stats)
) -> None:
    with on("2026-11-30"):
        rows = _table(client, data["zhaoping"], "inspection-outcomes")
    assert rows == [{"检查结果": "rectification", "检查结果名称": "责令整改", "数量": "1"}]
