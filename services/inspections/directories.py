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


def list_items(session: Session) -> list[InspectionItem]:
    return list(session.exec(select(InspectionItem).order_by(InspectionItem.code)).all())


def create_item(session: Session, *, code: str, name: str) -> InspectionItem:
    if session.get(InspectionItem, code) is not None:
        raise Conflict("检查事项代码已存在")
    item = InspectionItem(code=code, name=name)
    session.add(item)
    session.flush()
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
        data=changes,
    )
    return inspector


def get_inspector_within(session: Session, inspector_id: int, *, within: str) -> Inspector:
    inspector = session.get(Inspector, inspector_id)
    if inspector is None or not regions.covers(within, inspector.jurisdiction):
        raise NotFound("检查人员不存在")
    return inspector
