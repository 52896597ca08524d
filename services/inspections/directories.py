"""One list, two directories (一单两库): inspection items and inspectors (certificate, jurisdiction,
declared conflicts)."""

from typing import Any

from sqlmodel import Session, col, select

from domain.errors import (
    Conflict,
    DuplicateUsername,
    NotFound,
    ValidationFailed,
)
from domain.vocabulary import Role
from models.inspection import (
    InspectionItem,
    Inspector,
)
from models.user import User
from services.oversight import audit
from services.reference import regions


def list_items(session: Session, *, active_only: bool = False) -> list[InspectionItem]:
    query = select(InspectionItem).order_by(InspectionItem.code)
    if active_only:
        query = query.where(col(InspectionItem.active).is_(True))
    return list(session.exec(query).all())


CITY_WIDE = "检查事项清单全市通用，仅市级管理人员可以修改"  # the item list (一单) is city-wide


def create_item(
    session: Session,
    *,
    admin: User,
    code: str,
    name: str,
    legal_basis: str | None = None,
    method: str | None = None,
) -> InspectionItem:
    regions.require_city_level(admin.jurisdiction, CITY_WIDE)
    if session.get(InspectionItem, code) is not None:
        raise Conflict("检查事项代码已存在")
    item = InspectionItem(code=code, name=name, legal_basis=legal_basis, method=method)
    session.add(item)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="inspection_item.create",
        entity="inspection_item",
        entity_id=code,
        region_code=None,  # city-wide: city-level admins read it
        data={"name": name, "legal_basis": legal_basis, "method": method},
    )
    return item


def update_item(
    session: Session, code: str, *, admin: User, changes: dict[str, Any]
) -> InspectionItem:
    regions.require_city_level(admin.jurisdiction, CITY_WIDE)
    item = session.get(InspectionItem, code)
    if item is None:
        raise NotFound("检查事项不存在")
    changes = {
        **{key: changes[key] for key in ("name", "active") if changes.get(key) is not None},
        # These two may be cleared (null); absent keys are left as they are.
        **{key: changes[key] for key in ("legal_basis", "method") if key in changes},
    }
    for key, value in changes.items():
        setattr(item, key, value)
    session.add(item)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="inspection_item.update",
        entity="inspection_item",
        entity_id=code,
        region_code=None,  # city-wide: city-level admins read it
        data=changes,
    )
    return item


def list_inspectors(session: Session, *, within: str) -> list[Inspector]:
    return list(
        session.exec(
            select(Inspector)
            .where(col(Inspector.jurisdiction).startswith(regions.region_prefix(within)))
            .order_by(Inspector.certificate_no)
        ).all()
    )


def create_inspector(
    session: Session,
    *,
    admin: User,
    name: str,
    certificate_no: str,
    jurisdiction: str,
    active: bool,
    conflicts: list[str],
    username: str | None,
) -> Inspector:
    if (
        not regions.covers(admin.jurisdiction, jurisdiction)
        or regions.get_region(session, jurisdiction) is None
    ):
        raise ValidationFailed.single("jurisdiction", "unknown_region", "辖区不存在或不在本辖区内")
    if session.exec(select(Inspector).where(Inspector.certificate_no == certificate_no)).first():
        raise Conflict("执法证号已登记")
    user_id = None
    if username:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or user.role != Role.INSPECTOR:
            raise ValidationFailed.single(
                "username", "validation_error", "须关联一个 inspector 角色的账号"
            )
        if session.exec(select(Inspector).where(Inspector.user_id == user.id)).first():
            raise DuplicateUsername("该账号已关联其他检查人员")
        user_id = user.id
    inspector = Inspector(
        name=name,
        certificate_no=certificate_no,
        jurisdiction=jurisdiction,
        active=active,
        conflicts=sorted(set(conflicts)),
        user_id=user_id,
    )
    session.add(inspector)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="inspector.create",
        entity="inspector",
        entity_id=inspector.id,
        region_code=inspector.jurisdiction,
        data={"certificate_no": certificate_no, "conflicts": inspector.conflicts},
    )
    return inspector


def update_inspector(
    session: Session, inspector: Inspector, *, admin: User, changes: dict[str, Any]
) -> Inspector:
    if "conflicts" in changes:
        changes["conflicts"] = sorted(set(changes["conflicts"]))
    for key in ("name", "active", "conflicts"):
        if key in changes:
            setattr(inspector, key, changes[key])
    session.add(inspector)
    session.flush()
    audit.append(
        session,
        actor_id=admin.id,
        action="inspector.update",
        entity="inspector",
        entity_id=inspector.id,
        region_code=inspector.jurisdiction,
        data=changes,
    )
    return inspector


def get_inspector_within(session: Session, inspector_id: int, *, within: str) -> Inspector:
    inspector = session.get(Inspector, inspector_id)
    if inspector is None or not regions.covers(within, inspector.jurisdiction):
        raise NotFound("检查人员不存在")
    return inspector
