from typing import Annotated

from fastapi import APIRouter, Body, status

from api.deps import Applicant, ClientAddress, Reviewer, SessionDep, run_between_transactions
from core.security import hash_password
from schemas.common import Filter, Id
from schemas.enterprises import (
    Approval,
    ChangeReview,
    EnterprisePublic,
    EnterpriseRegister,
    EnterpriseUpdate,
    LicenceCancellation,
    Rejection,
)
from services.accounts import enterprises, throttling
from services.filings import actions

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.post("/register", response_model=EnterprisePublic, status_code=status.HTTP_201_CREATED)
def register(
    session: SessionDep, address: ClientAddress, body: EnterpriseRegister
) -> EnterprisePublic:
    """Public. Registers a courier enterprise and its owner login, pending approval (until then
    the owner may only see, correct and resubmit the registration). Optional licence data:
    `licence_valid_from`, `licence_valid_until`, `licence_regions` (without it the licensed area
    is the enterprise's city); `contact_email` becomes the owner account's e-mail.
    A client address may register a few times an hour (then 429 with Retry-After)."""
    # Counted and committed first (a failed registration counts too), then the password is
    # hashed with no transaction open (Argon2 is slow), then the registration is written.
    throttling.count_registration(session, address)
    password_hash = run_between_transactions(session, lambda: hash_password(body.password))
    enterprise = enterprises.register(
        session, **body.model_dump(exclude={"password"}), password_hash=password_hash
    )
    return enterprises.present(enterprise)


@router.get("", response_model=list[EnterprisePublic])
def list_enterprises(
    session: SessionDep, reviewer: Reviewer, status: Filter | None = None
) -> list[EnterprisePublic]:
    """Enterprises inside the caller's jurisdiction (`status=pending` for the approval queue)."""
    rows = enterprises.list_within(session, within=reviewer.jurisdiction, status=status)
    return [enterprises.present(e) for e in rows]


@router.get("/{enterprise_id}", response_model=EnterprisePublic)
def get_enterprise(session: SessionDep, user: Applicant, enterprise_id: Id) -> EnterprisePublic:
    """Staff: an enterprise in their jurisdiction. An operator: its own (also while pending or
    rejected, with `rejection_reason`), any other is 404."""
    return enterprises.present(enterprises.get_visible(session, enterprise_id, user=user))


@router.patch("/{enterprise_id}", response_model=EnterprisePublic)
def update_enterprise(
    session: SessionDep, user: Applicant, enterprise_id: Id, body: EnterpriseUpdate
) -> EnterprisePublic:
    """The owner's edit. While rejected every registration field applies at once (then
    `POST .../resubmission`); while pending nothing may change (409 `invalid_transition`: the
    reviewer decides on what was submitted). Once approved, `contact_name`, `contact_mobile`,
    `contact_email` apply at once; `name`, `uscc`, `licence_no`, `licence_valid_from`,
    `licence_valid_until` and `licence_regions` become a change awaiting a reviewer
    (`pending_change`; 409 `change_pending` while one waits), decided by
    `POST /enterprises/{id}/change-review`."""
    enterprise = enterprises.get_owned(session, enterprise_id, user=user)
    return enterprises.present(
        enterprises.update(
            session, enterprise, owner=user, patch=body.model_dump(exclude_unset=True)
        )
    )


@router.post("/{enterprise_id}/resubmission", response_model=EnterprisePublic)
def resubmit(session: SessionDep, user: Applicant, enterprise_id: Id) -> EnterprisePublic:
    """The owner sends its rejected (corrected) registration back for approval: `pending`."""
    enterprise = enterprises.get_owned(session, enterprise_id, user=user)
    return enterprises.present(enterprises.resubmit(session, enterprise, owner=user))


@router.post("/{enterprise_id}/approve", response_model=EnterprisePublic)
def approve(
    session: SessionDep,
    reviewer: Reviewer,
    enterprise_id: Id,
    body: Annotated[Approval | None, Body()] = None,
) -> EnterprisePublic:
    """Approves a pending registration; its operator accounts can then work. The optional body
    fills or corrects the licence data (`licence_valid_from`, `licence_valid_until`,
    `licence_regions`); no body is fine. Regions outside the reviewer's jurisdiction: 403
    `outside_jurisdiction`."""
    enterprise = enterprises.get_within(
        session, enterprise_id, within=reviewer.jurisdiction, for_update=True
    )
    licence = body.model_dump(exclude_unset=True) if body is not None else {}
    return enterprises.present(
        enterprises.approve(session, enterprise, approver=reviewer, licence=licence)
    )


@router.post("/{enterprise_id}/rejection", response_model=EnterprisePublic)
def reject(
    session: SessionDep, reviewer: Reviewer, enterprise_id: Id, body: Rejection
) -> EnterprisePublic:
    """Rejects a pending registration with a reason its owner sees (`rejection_reason`); the
    owner may correct it and resubmit. Anything but a pending one is 409 `invalid_transition`."""
    enterprise = enterprises.get_within(
        session, enterprise_id, within=reviewer.jurisdiction, for_update=True
    )
    return enterprises.present(
        enterprises.reject(session, enterprise, reviewer=reviewer, reason=body.reason)
    )


@router.post("/{enterprise_id}/change-review", response_model=EnterprisePublic)
def review_change(
    session: SessionDep, reviewer: Reviewer, enterprise_id: Id, body: ChangeReview
) -> EnterprisePublic:
    """Decides the enterprise's pending change (`{decision: accept|reject, reason?}`). An
    accepted new name or USCC reissues every receipt in force (a new revision and receipt
    number each; the old receipt is `superseded`). No pending change: 409 `invalid_transition`.
    Accepting needs a reviewer covering the licensed regions the change sets and, when receipts
    are reissued, every county with a filing in force: else 403 `outside_jurisdiction`."""
    enterprise = enterprises.get_within(
        session, enterprise_id, within=reviewer.jurisdiction, for_update=True
    )
    return enterprises.present(
        enterprises.review_change(
            session, enterprise, reviewer=reviewer, decision=body.decision, reason=body.reason
        )
    )


@router.post("/{enterprise_id}/licence-cancellation", response_model=EnterprisePublic)
def cancel_licence(
    session: SessionDep, reviewer: Reviewer, enterprise_id: Id, body: LicenceCancellation
) -> EnterprisePublic:
    """The operator's courier licence was cancelled: all its filings in force lapse.

    Only staff covering every county where the enterprise has a filing in force may do it (a
    city-level reviewer always can); otherwise 403 `outside_jurisdiction` and nothing changes.
    """
    enterprise = enterprises.get_within(
        session, enterprise_id, within=reviewer.jurisdiction, for_update=True
    )
    actions.cancel_licence(session, enterprise, actor=reviewer, reason=body.reason)
    return enterprises.present(enterprise)
