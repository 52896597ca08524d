"""The brand list outlets choose from (preloaded by the first migration, admin-managed).

The list is city-wide: only city-level admins change it (403 `outside_jurisdiction` for a
county's), and every change is audited.
"""

from sqlmodel import Session, select

from domain.errors import Conflict, NotFound
from models.brand import Brand
from models.user import User
from services.oversight import audit
from services.reference import regions


def list_brands(session: Session, *, include_inactive: bool = False) -> list[Brand]:
    query = select(Brand).order_by(Brand.code)
    if not include_inactive:
        query = query.where(Brand.active)
    return list(session.exec(query).all())


CITY_WIDE = "品牌目录全市通用，仅市级管理人员可以修改"


def create_brand(session: Session, *, actor: User, code: str, name: str) -> Brand:
    regions.require_city_level(actor.jurisdiction, CITY_WIDE)
    if session.get(Brand, code) is not None:
        raise Conflict("品牌代码已存在")
    brand = Brand(code=code, name=name)
    session.add(brand)
    session.flush()
    audit.append(
        session,
        actor_id=actor.id,
        action="brand.create",
        entity="brand",
        entity_id=code,
        region_code=None,  # city-wide: city-level admins read it
        data={"name": name},
    )
    return brand


def update_brand(
    session: Session,
    code: str,
    *,
    actor: User,
    name: str | None = None,
    active: bool | None = None,
) -> Brand:
    regions.require_city_level(actor.jurisdiction, CITY_WIDE)
    brand = session.get(Brand, code)
    if brand is None:
        raise NotFound("品牌不存在")
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name
        brand.name = name
    if active is not None:
        changes["active"] = active
        brand.active = active
    session.add(brand)
    session.flush()
    audit.append(
        session,
        actor_id=actor.id,
        action="brand.update",
        entity="brand",
        entity_id=code,
        region_code=None,  # city-wide: city-level admins read it
        data=changes,
    )
    return brand
