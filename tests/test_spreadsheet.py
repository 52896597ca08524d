"""CSV exports: Excel-friendly, and never a formula (CSV injection, OWASP)."""

import csv
import io
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from core.spreadsheet import to_csv
from models.user import User
from tests.factories import filed_filing


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_like_a_formula_is_quoted(start: str) -> None:
    rows = _cells(to_csv(["名称"], [[f'{start}HYPERLINK("http://x")']]))
    assert rows[1][0] == f'\'{start}HYPERLINK("http://x")'


def test_ordinary_cells_and_numbers_are_unchanged() -> None:
    rows = _cells(to_csv(["名称", "数量"], [["贺街镇快递服务站", -3], ["a=b", 0.5]]))
    assert rows[1:] == [["贺街镇快递服务站", "-3"], ["a=b", "0.5"]]


def test_an_outlet_named_like_a_formula_reaches_the_public_csv_as_text(
    client: TestClient, operator: User, reviewer: User, fixed_clock: datetime
) -> None:
    filed_filing(client, operator, reviewer, name='=HYPERLINK("http://evil","点我")')
    response = client.get("/api/v1/public/outlets.csv")
    names = [row[2] for row in _cells(response.text)[1:]]
    assert '\'=HYPERLINK("http://evil","点我")' in names
    assert not any(name.startswith("=") for name in names)
