"""Courier enterprises: public registration, approval or rejection by the administration,
the owner's corrections and resubmission, and changes of registration data under review."""

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from core import clock
from core.security import hash_password
from domain.errors import (
    ChangeAlreadyPending,
    DuplicateUscc,
    DuplicateUsername,
    FieldError,
    Forbidden,
    InvalidTransition,
    NotFound,
    OutsideJurisdiction,
    ValidationFailed,
)
from domain.identifiers import normalise_mobile, normalise_uscc
from domain.vocabulary import ChangeDecision, EnterpriseStatus, Role
from models.enterprise import Enterprise
from models.user import User
from schemas.enterprises import EnterprisePublic, PendingChange
from services.filings import actions
from services.filings import rules as filing_rules
from services.notifications import events as notices
from services.oversight import audit
from services.reference import regions

# What the owner of an approved enterprise changes at once, and what goes to a reviewer.
CONTACT_FIELDS = ("contact_name", "contact_mobile", "contact_email")
REVIEWED_FIELDS = ("name", "uscc", "licence_no", "licence_valid_from", "licence_valid_until")
LICENCE_FIELDS = ("licence_valid_from", "licence_valid_until", "licence_regions")
# While rejected, the owner corrects any of these.
REGISTRATION_FIELDS = (
    "name",
    "uscc",
    "licence_no",
    "region_code",
    "is_branch",
    *CONTACT_FIELDS,
    *LICENCE_FIELDS,
)


def _licence_errors(
    session: Session,
    *,
    valid_from: date | None,
    valid_until: date | None,
    licence_regions: list[str] | None,
) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, code in enumerate(licence_regions or []):
        if regions.get_region(session, code) is None:
            errors.append(
                FieldError(f"licence_regions.{index}", "unknown_region", f"地区代码 {code} 不存在")
            )
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        errors.append(
            FieldError("licence_valid_until", "validation_error", "许可有效期止不能早于有效期起")
        )
    return errors


def _dedup(codes: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(codes)) if codes else None


def _require_covers_regions(staff: User, codes: list[str] | None) -> None:
    """Staff record a licensed area only inside their jurisdiction: 403 `outside_jurisdiction`
    naming the regions beyond it."""
    outside = sorted({code for code in codes or [] if not regions.covers(staff.jurisdiction, code)})
    if outside:
        raise OutsideJurisdiction(
            f"许可经营地域超出本辖区范围（{'、'.join(outside)}），须由覆盖这些地区的人员审核",
            regions=outside,
        )


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    """What the permanent audit chain keeps of an edit: the public registration values (name,
    USCC, licence data, region) and only the names of the contact fields changed."""
    kept = {k: v for k, v in _jsonable(values).items() if k not in CONTACT_FIELDS}
    contacts = sorted(k for k in values if k in CONTACT_FIELDS)
    return {**kept, "contact_fields": contacts} if contacts else kept


def register(
    session: Session,
    *,
    name: str,
    uscc: str,
    licence_no: str,
    region_code: str,
    is_branch: bool,
    contact_name: str,
    contact_mobile: str,
    username: str,
    password: str | None = None,
    password_hash: str | None = None,
    contact_email: str | None = None,
    licence_valid_from: date | None = None,
    licence_valid_until: date | None = None,
    licence_regions: list[str] | None = None,
) -> Enterprise:
    """A pending enterprise and its owner account, which until approval may only see, correct
    and resubmit the registration. Without `licence_regions` the licensed area is the city of
    `region_code`; an unknown validity is filled in at approval.

    A request hashes the password before its write transaction and passes `password_hash`;
    given only `password` (scripts, tests), it is hashed here before anything is read."""
    if password_hash is None:
        if password is None:
            raise ValueError("a password or its hash is required")
        password_hash = hash_password(password)
    errors: list[FieldError] = []
    if regions.get_region(session, region_code) is None:
        errors.append(FieldError("region_code", "unknown_region", "所在地区代码不存在"))
    errors += _licence_errors(
        session,
        valid_from=licence_valid_from,
        valid_until=licence_valid_until,
        licence_regions=licence_regions,
    )
    if errors:
        raise ValidationFailed(errors)
    uscc = normalise_uscc(uscc)
    if session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first() is not None:
        raise DuplicateUscc()
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise DuplicateUsername()
    enterprise = Enterprise(
        name=name,
        uscc=uscc,
        licence_no=licence_no,
        region_code=region_code,
        is_branch=is_branch,
        contact_name=contact_name,
        contact_mobile=normalise_mobile(contact_mobile),
        contact_email=contact_email,
        licence_valid_from=licence_valid_from,
        licence_valid_until=licence_valid_until,
        licence_regions=_dedup(licence_regions) or [filing_rules.city_code(region_code)],
    )
    session.add(enterprise)
    session.flush()
    owner = User(
        username=username,
        password_hash=password_hash,
        role=Role.OPERATOR,
        jurisdiction=region_code,
        display_name=name,
        enterprise_id=enterprise.id,
        email=contact_email,
        mobile=enterprise.contact_mobile,
        is_owner=True,
    )
    session.add(owner)
    session.flush()
    audit.append(
        session,
        actor_id=owner.id,
        action="enterprise.register",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        # Public registration data and ids only: the username and contacts stay out of the
        # permanent chain.
        data={"uscc": enterprise.uscc, "licence_no": licence_no, "owner_id": owner.id},
    )
    return enterprise


def present(enterprise: Enterprise) -> EnterprisePublic:
    """The enterprise as staff and its own accounts see it: status label, licensed area (the
    city when none is recorded) and the change awaiting review, if any."""
    pending = (
        PendingChange(fields=enterprise.pending_change, requested_at=enterprise.change_requested_at)
        if enterprise.pending_change is not None and enterprise.change_requested_at is not None
        else None
    )
    return EnterprisePublic.model_validate(
        {
            **enterprise.model_dump(),
            "status_label": EnterpriseStatus(enterprise.status).label,
            "licence_regions": filing_rules.licensed_regions(
                region_code=enterprise.region_code, licence_regions=enterprise.licence_regions
            ),
            "pending_change": pending,
        }
    )


def get_within(
    session: Session, enterprise_id: int, *, within: str, for_update: bool = False
) -> Enterprise:
    """The enterprise if the jurisdiction covers it; otherwise it does not exist for the caller."""
    enterprise = session.get(Enterprise, enterprise_id, with_for_update=for_update)
    if enterprise is None or not regions.covers(within, enterprise.region_code):
        raise NotFound("企业不存在")
    return enterprise


def get_visible(
    session: Session, enterprise_id: int, *, user: User, for_update: bool = False
) -> Enterprise:
    """Staff see the enterprises in their jurisdiction; an operator sees its own only."""
    if user.role == Role.OPERATOR:
        if user.enterprise_id != enterprise_id:
            raise NotFound("企业不存在")
        enterprise = session.get(Enterprise, enterprise_id, with_for_update=for_update)
        if enterprise is None:
            raise NotFound("企业不存在")
        return enterprise
    if user.role not in (Role.REVIEWER, Role.ADMIN):
        raise NotFound("企业不存在")
    return get_within(session, enterprise_id, within=user.jurisdiction, for_update=for_update)


def get_owned(session: Session, enterprise_id: int, *, user: User) -> Enterprise:
    """The caller's own enterprise, for its owner account; 404 for anyone else's, 403 for a
    non-owner account of it."""
    if user.role != Role.OPERATOR or user.enterprise_id != enterprise_id:
        raise NotFound("企业不存在")
    enterprise = session.get(Enterprise, enterprise_id, with_for_update=True)
    if enterprise is None:
        raise NotFound("企业不存在")
    if not user.is_owner:
        raise Forbidden("只有企业的主账号可以修改企业登记信息")
    return enterprise


def is_approved(session: Session, user: User) -> bool:
    """Whether the user may act beyond its own registration (SPEC §1): staff always, an operator
    only while its enterprise is approved (pending or rejected: see, correct and resubmit it).
    The one rule behind the API's `enterprise_not_approved`, the pages' redirect to
    `/register/status` and where the login sends an operator."""
    if user.enterprise_id is None:
        return True
    enterprise = session.get(Enterprise, user.enterprise_id)
    return enterprise is not None and enterprise.status == EnterpriseStatus.APPROVED


def list_within(session: Session, *, within: str, status: str | None = None) -> list[Enterprise]:
    query = select(Enterprise).where(
        col(Enterprise.region_code).startswith(regions.region_prefix(within))
    )
    if status:
        query = query.where(Enterprise.status == status)
    return list(session.exec(query.order_by(col(Enterprise.id))).all())


def _apply_licence(
    session: Session, enterprise: Enterprise, licence: dict[str, Any]
) -> dict[str, Any]:
    """Sets the licence fields given (validated together with those kept); returns them as JSON."""
    valid_from, valid_until = _check_licence_fields(session, enterprise, licence)
    if "licence_valid_from" in licence:
        enterprise.licence_valid_from = valid_from
    if "licence_valid_until" in licence:
        enterprise.licence_valid_until = valid_until
    if licence.get("licence_regions"):
        enterprise.licence_regions = _dedup(licence["licence_regions"])
    return _jsonable(licence)


def _check_licence_fields(
    session: Session, enterprise: Enterprise, licence: dict[str, Any]
) -> tuple[date | None, date | None]:
    """The validity the enterprise would have with `licence` applied, checked together with
    the regions given (422 with every problem at once)."""
    valid_from = licence.get("licence_valid_from", enterprise.licence_valid_from)
    valid_until = licence.get("licence_valid_until", enterprise.licence_valid_until)
    errors = _licence_errors(
        session,
        valid_from=valid_from,
        valid_until=valid_until,
        licence_regions=licence.get("licence_regions"),
    )
    if errors:
        raise ValidationFailed(errors)
    return valid_from, valid_until


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def approve(
    session: Session,
    enterprise: Enterprise,
    *,
    approver: User,
    licence: dict[str, Any] | None = None,
) -> Enterprise:
    """Approves a pending registration, with the licence data the reviewer fills or corrects
    (a licensed area given must lie inside the reviewer's jurisdiction: else 403)."""
    if enterprise.status != EnterpriseStatus.PENDING:
        raise InvalidTransition(
            "该企业已审核通过"
            if enterprise.status == EnterpriseStatus.APPROVED
            else "只能批准待审核的企业登记"
        )
    _require_covers_regions(approver, (licence or {}).get("licence_regions"))
    filled = _apply_licence(session, enterprise, licence or {})
    enterprise.status = EnterpriseStatus.APPROVED
    enterprise.approved_at = clock.now()
    enterprise.approved_by_id = approver.id
    session.add(enterprise)
    session.flush()
    audit.append(
        session,
        actor_id=approver.id,
        action="enterprise.approve",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data={"uscc": enterprise.uscc, **filled},
    )
    notices.enterprise_approved(session, enterprise)
    return enterprise


def reject(session: Session, enterprise: Enterprise, *, reviewer: User, reason: str) -> Enterprise:
    """A pending registration is refused, with the reason its owner sees."""
    if enterprise.status != EnterpriseStatus.PENDING:
        raise InvalidTransition("只能驳回待审核的企业登记")
    enterprise.status = EnterpriseStatus.REJECTED
    enterprise.rejection_reason = reason
    enterprise.rejected_at = clock.now()
    session.add(enterprise)
    session.flush()
    audit.append(
        session,
        actor_id=reviewer.id,
        action="enterprise.reject",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data={"uscc": enterprise.uscc, "reason": reason},
    )
    notices.enterprise_rejected(session, enterprise, reason)
    return enterprise


def resubmit(session: Session, enterprise: Enterprise, *, owner: User) -> Enterprise:
    """The owner sends a rejected (and corrected) registration back for approval. The last
    rejection's reason stays on record for the reviewer."""
    if enterprise.status != EnterpriseStatus.REJECTED:
        raise InvalidTransition("只能重新提交已被驳回的企业登记")
    enterprise.status = EnterpriseStatus.PENDING
    session.add(enterprise)
    session.flush()
    audit.append(
        session,
        actor_id=owner.id,
        action="enterprise.resubmit",
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data={"uscc": enterprise.uscc},
    )
    return enterprise


def _check_uscc_free(session: Session, enterprise: Enterprise, uscc: str) -> str:
    uscc = normalise_uscc(uscc)
    other = session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    if other is not None and other.id != enterprise.id:
        raise DuplicateUscc()
    return uscc


def _audit(session: Session, enterprise: Enterprise, actor: User, action: str, data: Any) -> None:
    audit.append(
        session,
        actor_id=actor.id,
        action=action,
        entity="enterprise",
        entity_id=enterprise.id,
        region_code=enterprise.region_code,
        data=data,
    )


def update(
    session: Session, enterprise: Enterprise, *, owner: User, patch: dict[str, Any]
) -> Enterprise:
    """The owner's edit (fields given only). Rejected: every registration field applies at
    once (then resubmit). Pending: nothing may change while a reviewer may be deciding (409).
    Approved: contact fields apply at once; name, USCC, licence number and licence
    validity/area become one change awaiting a reviewer (409 while another waits)."""
    if enterprise.status == EnterpriseStatus.PENDING:
        raise InvalidTransition("等待审核期间不能修改企业登记信息；如被驳回，可修改后重新提交")
    patch = {k: v for k, v in patch.items() if k in REGISTRATION_FIELDS}
    if "contact_mobile" in patch:
        patch["contact_mobile"] = normalise_mobile(patch["contact_mobile"])
    if enterprise.status != EnterpriseStatus.APPROVED:
        if "region_code" in patch and regions.get_region(session, patch["region_code"]) is None:
            raise ValidationFailed.single("region_code", "unknown_region", "所在地区代码不存在")
        if "uscc" in patch:
            patch["uscc"] = _check_uscc_free(session, enterprise, patch["uscc"])
        licence = {k: patch.pop(k) for k in LICENCE_FIELDS if k in patch}
        filled = _apply_licence(session, enterprise, licence)
        for key, value in patch.items():
            setattr(enterprise, key, value)
        if "region_code" in patch and not licence.get("licence_regions"):
            enterprise.licence_regions = [filing_rules.city_code(enterprise.region_code)]
        if "region_code" in patch:
            owner.jurisdiction = enterprise.region_code
            session.add(owner)
        session.add(enterprise)
        session.flush()
        _audit(session, enterprise, owner, "enterprise.correct", _audit_values({**patch, **filled}))
        return enterprise
    fixed = sorted(k for k in ("region_code", "is_branch") if k in patch)
    if fixed:
        raise ValidationFailed(
            [FieldError(key, "validation_error", "企业登记已批准，此项不能修改") for key in fixed]
        )
    contact = {k: patch[k] for k in CONTACT_FIELDS if k in patch}
    reviewed = {k: patch[k] for k in (*REVIEWED_FIELDS, "licence_regions") if k in patch}
    if reviewed:
        if enterprise.pending_change is not None:
            raise ChangeAlreadyPending()
        if "uscc" in reviewed:
            reviewed["uscc"] = _check_uscc_free(session, enterprise, reviewed["uscc"])
        _check_licence_fields(session, enterprise, reviewed)
        if "licence_regions" in reviewed and not reviewed["licence_regions"]:
            del reviewed["licence_regions"]
    for key, value in contact.items():
        setattr(enterprise, key, value)
    if contact:
        _audit(session, enterprise, owner, "enterprise.contact_update", _audit_values(contact))
    if reviewed:
        enterprise.pending_change = _jsonable(reviewed)
        enterprise.change_requested_at = clock.now()
        _audit(session, enterprise, owner, "enterprise.change_requested", enterprise.pending_change)
    session.add(enterprise)
    session.flush()
    return enterprise


def review_change(
    session: Session,
    enterprise: Enterprise,
    *,
    reviewer: User,
    decision: ChangeDecision,
    reason: str | None,
) -> Enterprise:
    """A reviewer decides the open change. Accepted, it applies; a new name or USCC reissues
    every receipt in force (a new revision each, the old receipt superseded).

    Accepting needs a reviewer covering every licensed region the change sets and, when
    receipts are reissued, every county where the enterprise has filings in force (else 403
    `outside_jurisdiction`, nothing changes)."""
    change = enterprise.pending_change
    if change is None:
        raise InvalidTransition("该企业没有待审核的登记信息变更")
    old_name, old_uscc = enterprise.name, enterprise.uscc
    if decision == ChangeDecision.ACCEPT:
        if "uscc" in change:
            change["uscc"] = _check_uscc_free(session, enterprise, change["uscc"])
        _require_covers_regions(reviewer, change.get("licence_regions"))
        if change.get("name", old_name) != old_name or change.get("uscc", old_uscc) != old_uscc:
            actions.require_reach_of_filings_in_force(
                session,
                enterprise,
                actor=reviewer,
                message="该企业有备案网点在本辖区以外，换发回执的变更须由覆盖全部网点所在县区的人员审核",
            )
        for key in ("name", "uscc", "licence_no"):
            if key in change:
                setattr(enterprise, key, change[key])
        licence: dict[str, Any] = {
            key: date.fromisoformat(change[key]) if change[key] else None
            for key in ("licence_valid_from", "licence_valid_until")
            if key in change
        }
        if "licence_regions" in change:
            licence["licence_regions"] = change["licence_regions"]
        _apply_licence(session, enterprise, licence)
    enterprise.pending_change = None
    enterprise.change_requested_at = None
    session.add(enterprise)
    session.flush()
    _audit(
        session,
        enterprise,
        reviewer,
        f"enterprise.change_{'accepted' if decision == ChangeDecision.ACCEPT else 'rejected'}",
        {"change": change, "reason": reason},
    )
    if decision == ChangeDecision.ACCEPT and (
        enterprise.name != old_name or enterprise.uscc != old_uscc
    ):
        actions.reissue_receipts(session, enterprise, actor=reviewer)
    return enterprise
