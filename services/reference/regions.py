"""Administrative divisions: loading a region file and deciding what a jurisdiction covers."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from domain.errors import OutsideJurisdiction
from domain.vocabulary import RegionLevel
from models.region import Region
from schemas.reference import RegionNode

DEFAULT_REGIONS_FILE = Path(__file__).resolve().parent / "data" / "hezhou_regions.csv"


def region_prefix(code: str) -> str:
    """The code prefix shared by every division inside `code` (GB/T 2260 structure).

    `450000` → `45` (the province), `451100` → `4511` (the city), `451102` → `451102`;
    nine-digit township codes stand for themselves.
    """
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def covers(jurisdiction: str, region_code: str) -> bool:
    """Whether a jurisdiction includes a region (itself included)."""
    return region_code.startswith(region_prefix(jurisdiction))


def covers_city(jurisdiction: str) -> bool:
    """Whether a jurisdiction is city-level or wider (`451100`, `450000`), not one county's.

    City-wide data (brands, inspection items, the whole audit chain) is for these staff only.
    """
    return len(region_prefix(jurisdiction)) <= 4


def require_city_level(jurisdiction: str, reason: str) -> None:
    """403 `outside_jurisdiction` (with `reason`) unless the jurisdiction covers the city."""
    if not covers_city(jurisdiction):
        raise OutsideJurisdiction(reason)


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None


def read_regions_csv(path: Path) -> list[RegionRow]:
    """Rows of a `code,name,level,parent_code` file, parents before children."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            RegionRow(
                code=row["code"].strip(),
                name=row["name"].strip(),
                level=row["level"].strip(),
                parent_code=(row.get("parent_code") or "").strip() or None,
            )
            for row in csv.DictReader(handle)
        ]
    unknown_levels = {row.level for row in rows} - set(RegionLevel.values())
    if unknown_levels:
        raise ValueError(f"unknown region levels in {path}: {sorted(unknown_levels)}")
    order = {level: rank for rank, level in enumerate(RegionLevel.values())}
    return sorted(rows, key=lambda row: (order[row.level], row.code))


def load_regions(session: Session, rows: Iterable[RegionRow]) -> int:
    """Insert or update regions; returns how many rows were written. Idempotent."""
    existing = {region.code: region for region in session.exec(select(Region)).all()}
    written = 0
    for row in rows:
        region = existing.get(row.code)
        if region is None:
            session.add(Region(**row.__dict__))
            written += 1
        elif (region.name, region.level, region.parent_code) != (
            row.name,
            row.level,
            row.parent_code,
        ):
            region.name, region.level, region.parent_code = row.name, row.level, row.parent_code
            session.add(region)
            written += 1
        session.flush()
    return written


def get_region(session: Session, code: str) -> Region | None:
    return session.get(Region, code)


def region_tree(session: Session, root: str | None = None) -> list[RegionNode]:
    """The divisions as a tree, from `root` or from the top."""
    regions = session.exec(select(Region).order_by(col(Region.code))).all()
    children: dict[str | None, list[Region]] = {}
    for region in regions:
        children.setdefault(region.parent_code, []).append(region)

    def build(region: Region) -> RegionNode:
        return RegionNode(
            code=region.code,
            name=region.name,
            level=RegionLevel(region.level),
            children=[build(child) for child in children.get(region.code, [])],
        )

    if root is not None:
        node = next((region for region in regions if region.code == root), None)
        return [build(node)] if node else []
    known = {region.code for region in regions}
    return [build(region) for region in regions if region.parent_code not in known]


def cities_and_counties_within(session: Session, jurisdiction: str) -> list[tuple[str, str]]:
    """The city- and county-level regions a jurisdiction covers, as (code, name), tree order:
    what a staff member may choose as a plan's scope or a new account's jurisdiction."""
    found: list[tuple[str, str]] = []

    def walk(nodes: list[RegionNode]) -> None:
        for node in nodes:
            if node.level in (RegionLevel.CITY, RegionLevel.COUNTY) and covers(
                jurisdiction, node.code
            ):
                found.append((node.code, node.name))
            if node.level != RegionLevel.COUNTY:
                walk(node.children)

    walk(region_tree(session))
    return found
