"""The brand list outlets choose from (preloaded by the first migration, admin-managed)."""

from sqlmodel import Session, select

from domain.errors import Conflict, NotFound
from models.brand import Brand


def list_brands(session: Session, *, include_inactive: bool = False) -> list[Brand]:
    query = select(Brand).order_by(Brand.code)
    if not include_inactive:
        query = query.where(Brand.active)
    return list(session.exec(query).all())


def create_brand(session: Session, *, code: str, name: str) -> Brand:
    if session.get(Brand, code) is not None:
        raise Conflict("品牌代码已存在")
    brand = Brand(code=code, name=name)
    session.add(brand)
    session.flush()
    return brand


def update_brand(
    session: Session, code: str, *, name: str | None = None, active: bool | None = None
) -> Brand:
    brand = session.get(Brand, code)
    if brand is None:
        raise NotFound("品牌不存在")
    if name is not None:
        brand.name = name
    if active is not None:
        brand.active = active
    session.add(brand)
    session.flush()
    return brand
