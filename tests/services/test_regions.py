from pathlib import Path

import pytest
from sqlmodel import Session

from models.region import Region
from services.reference.regions import covers, load_regions, read_regions_csv, region_prefix


@pytest.mark.parametrize(
    ("jurisdiction", "code", "expected"),
    [
        ("450000", "451102101", True),
        ("451100", "451123", True),
        ("451102", "451102101", True),
        ("451102", "451103100", False),
        ("451102", "451100", False),
        ("451100", "450000", False),
    ],
)
def test_jurisdiction_covers_regions_by_code_structure(
    jurisdiction: str, code: str, expected: bool
) -> None:
    assert covers(jurisdiction, code) is expected


def test_region_prefix_strips_zero_pairs() -> None:
    assert region_prefix("450000") == "45"
    assert region_prefix("451100") == "4511"
    assert region_prefix("451102") == "451102"


def test_hezhou_file_has_57_towns_and_townships() -> None:
    from services.reference.regions import DEFAULT_REGIONS_FILE

    rows = read_regions_csv(DEFAULT_REGIONS_FILE)
    assert len(rows) == 68
    assert sum(row.level == "township" for row in rows) == 57


def test_loader_takes_another_citys_file_and_is_idempotent(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "other.csv"
    path.write_text(
        "code,name,level,parent_code\n"
        "450300,桂林市,city,450000\n"
        "450302,秀峰区,county,450300\n"
        "450302100,测试镇,township,450302\n",
        encoding="utf-8",
    )
    assert load_regions(session, read_regions_csv(path)) == 3
    assert load_regions(session, read_regions_csv(path)) == 0
    assert session.get_one(Region, "450302100").parent_code == "450302"
