from fastapi import APIRouter, status

from api.deps import ClientAddress, Reviewer, SessionDep, run_between_transactions
from core.security import hash_password
from schemas.common import Filter, Id
from schemas.enterprises import EnterprisePublic, EnterpriseRegister, LicenceCancellation
from services.accounts import enterprises, throttling
from services.filings import actions

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.post("/register", response_model=EnterprisePublic, status_code=status.HTTP_201_CREATED)
def register(
    session: SessionDep, address: ClientAddress, body: EnterpriseRegister
) -> EnterprisePublic:
    """Public. Registers a courier enterprise and its operator login, pending approval.
    A client address may register a few times an hour (then 429 with Retry-After)."""
    # Counted and committed first (a failed registration counts too), then the password is
    # hashed with no transaction open (Argon2 is slow), then the registration is written.
    throttling.count_registration(session, address)
    password_hash = run_between_transactions(session, lambda: hash_password(body.password))
    enterprise = enterprises.register(
        session, **body.model_dump(exclude={"password"}), password_hash=password_hash
    )
    return EnterprisePublic.model_validate(enterprise)


@router.get("", response_model=list[EnterprisePublic])
def list_enterprises(
    session: SessionDep, reviewer: Reviewer, status: Filter | None = None
) -> list[EnterprisePublic]:
    """Enterprises inside the caller's jurisdiction (`status=pending` for the approval queue)."""
    rows = enterprises.list_within(session, within=reviewer.jurisdiction, status=status)
    return [EnterprisePublic.model_validate(e) for e in rows]


@router.get("/{enterprise_id}", response_model=EnterprisePublic)
def get_enterprise(session: SessionDep, reviewer: Reviewer, enterprise_id: Id) -> EnterprisePublic:
    return EnterprisePublic.model_validate(
        enterprises.get_within(session, enterprise_id, within=reviewer.jurisdiction)
    )


@router.post("/{enterprise_id}/approve", response_model=EnterprisePublic)
def approve(session: SessionDep, reviewer: Reviewer, enterprise_id: Id) -> EnterprisePublic:
    """Approves a pending registration; its operator account can then log in."""
    enterprise = enterprises.get_within(
        session, enterprise_id, within=reviewer.jurisdiction, for_update=True
    )
    return EnterprisePublic.model_validate(
        enterprises.approve(session, enterprise, approver=reviewer)
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
    return EnterprisePublic.model_validate(enterprise)
