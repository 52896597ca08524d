from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from api.deps import Admin, Inspector, RequireRoles, SessionDep, Staff, reads_first
from api.uploads import CheckedUpload, store_checked_upload
from domain.vocabulary import Role
from models.user import User
from schemas.common import Filter, Id
from schemas.inspections import (
    DrawRequest,
    EvidencePublic,
    FollowUpRecord,
    InspectionItemCreate,
    InspectionItemPublic,
    InspectionItemUpdate,
    InspectionPublic,
    InspectorCreate,
    InspectorPublic,
    InspectorUpdate,
    OperatorInspection,
    OverdueRectification,
    PlanCancellation,
    PlanCreate,
    PlanSummary,
    PlanUpdate,
    PublishedPlan,
    ResultRecord,
)
from schemas.oversight import OverdueResult
from services.inspections import assignments, directories, draws, plans, publication, results

router = APIRouter(tags=["inspections"])


@router.get("/inspection-items", response_model=list[InspectionItemPublic])
def list_items(session: SessionDep, _staff: Staff) -> list[InspectionItemPublic]:
    """The inspection-item list (一单)."""
    return [InspectionItemPublic.model_validate(i) for i in directories.list_items(session)]


@router.post("/inspection-items", response_model=InspectionItemPublic, status_code=201)
def create_item(
    session: SessionDep, admin: Admin, body: InspectionItemCreate
) -> InspectionItemPublic:
    """City-level admins (the list is city-wide; 403 `outside_jurisdiction` for a county's)."""
    return InspectionItemPublic.model_validate(
        directories.create_item(
            session,
            admin=admin,
            code=body.code,
            name=body.name,
            legal_basis=body.legal_basis,
            method=body.method,
        )
    )


@router.patch("/inspection-items/{code}", response_model=InspectionItemPublic)
def update_item(
    session: SessionDep, admin: Admin, code: Filter, body: InspectionItemUpdate
) -> InspectionItemPublic:
    """City-level admins: rename an item or take it out of use (`active: false`)."""
    return InspectionItemPublic.model_validate(
        directories.update_item(
            session, code, admin=admin, changes=body.model_dump(exclude_unset=True)
        )
    )


@router.get("/inspectors", response_model=list[InspectorPublic])
def list_inspectors(session: SessionDep, admin: Admin) -> list[InspectorPublic]:
    """The inspector directory inside the admin's jurisdiction (一库)."""
    return [
        InspectorPublic.model_validate(i)
        for i in directories.list_inspectors(session, within=admin.jurisdiction)
    ]


@router.post("/inspectors", response_model=InspectorPublic, status_code=201)
def create_inspector(session: SessionDep, admin: Admin, body: InspectorCreate) -> InspectorPublic:
    return InspectorPublic.model_validate(
        directories.create_inspector(session, admin=admin, **body.model_dump())
    )


@router.patch("/inspectors/{inspector_id}", response_model=InspectorPublic)
def update_inspector(
    session: SessionDep, admin: Admin, inspector_id: Id, body: InspectorUpdate
) -> InspectorPublic:
    inspector = directories.get_inspector_within(session, inspector_id, within=admin.jurisdiction)
    return InspectorPublic.model_validate(
        directories.update_inspector(
            session, inspector, admin=admin, changes=body.model_dump(exclude_unset=True)
        )
    )


@router.post("/inspection-plans", response_model=PlanSummary, status_code=201)
def create_plan(session: SessionDep, admin: Admin, body: PlanCreate) -> PlanSummary:
    """A plan in draft: scope, items, sampling (rate per risk level, or count), team size."""
    return PlanSummary.model_validate(plans.create_plan(session, admin=admin, body=body))


@router.get("/inspection-plans", response_model=list[PlanSummary])
def list_plans(session: SessionDep, admin: Admin) -> list[PlanSummary]:
    return [
        PlanSummary.model_validate(p) for p in plans.list_plans(session, within=admin.jurisdiction)
    ]


@router.get("/inspection-plans/{plan_id}", response_model=PublishedPlan)
def get_plan(session: SessionDep, admin: Admin, plan_id: Id) -> PublishedPlan:
    """The plan with its frozen candidates, pool, draw and results."""
    plan = plans.get_plan_within(session, plan_id, within=admin.jurisdiction)
    return publication.publication(session, plan)


@router.patch("/inspection-plans/{plan_id}", response_model=PlanSummary)
def edit_plan(session: SessionDep, admin: Admin, plan_id: Id, body: PlanUpdate) -> PlanSummary:
    """Changes a draft plan (fields as on create, all optional); 409 once announced."""
    plan = plans.get_plan_within(session, plan_id, within=admin.jurisdiction, for_update=True)
    return PlanSummary.model_validate(plans.edit_plan(session, plan, admin=admin, body=body))


@router.post("/inspection-plans/{plan_id}/cancellation", response_model=PlanSummary)
def cancel_plan(
    session: SessionDep, admin: Admin, plan_id: Id, body: PlanCancellation
) -> PlanSummary:
    """Cancels a plan until it is drawn (409 after); an announced one stays published with its
    reason."""
    plan = plans.get_plan_within(session, plan_id, within=admin.jurisdiction, for_update=True)
    return PlanSummary.model_validate(
        plans.cancel_plan(session, plan, admin=admin, reason=body.reason)
    )


@router.post("/inspection-plans/{plan_id}/announce", response_model=PlanSummary)
def announce_plan(session: SessionDep, admin: Admin, plan_id: Id) -> PlanSummary:
    """Freezes and publishes the candidates and the pool with a SHA-256 digest. Once."""
    plan = plans.get_plan_within(session, plan_id, within=admin.jurisdiction, for_update=True)
    return PlanSummary.model_validate(plans.announce(session, plan, admin=admin))


@router.post("/inspection-plans/{plan_id}/draw", response_model=PublishedPlan)
def draw_plan(session: SessionDep, admin: Admin, plan_id: Id, body: DrawRequest) -> PublishedPlan:
    """Enters the public randomness and draws objects and teams. Once; all or nothing."""
    plan = plans.get_plan_within(session, plan_id, within=admin.jurisdiction, for_update=True)
    draws.run_draw(session, plan, admin=admin, sources=body.sources)
    return publication.publication(session, plan)


InspectorOrOperator = Annotated[User, Depends(RequireRoles(Role.INSPECTOR, Role.OPERATOR))]


@router.get("/inspections", response_model=list[InspectionPublic] | list[OperatorInspection])
def my_inspections(
    session: SessionDep, user: InspectorOrOperator
) -> list[InspectionPublic] | list[OperatorInspection]:
    """An inspector's own assignments (outlet, operator and contact, items, period, result and
    follow-up); for an operator, the inspections of its enterprise's outlets: the notice (plan,
    items, period, team certificate numbers, what to prepare) and the result and follow-up."""
    if user.role == Role.OPERATOR:
        return assignments.for_operator(session, user)
    return assignments.for_inspectors(session, results.assignments_of(session, user))


@router.get("/inspections/overdue", response_model=list[OverdueResult])
def overdue_results(session: SessionDep, admin: Admin) -> list[OverdueResult]:
    """Inspections whose results are late (20 working days, official calendar). Rectifications
    past their `rectify_by` without a follow-up are listed by
    `GET /inspections/overdue-rectifications`."""
    return results.overdue(session, within=admin.jurisdiction)


@router.get("/inspections/overdue-rectifications", response_model=list[OverdueRectification])
def overdue_rectifications(session: SessionDep, admin: Admin) -> list[OverdueRectification]:
    """Open rectifications (a `rectification` result with no follow-up recorded) whose
    `rectify_by` is before today (Beijing date), in the admin's jurisdiction, the longest overdue
    first."""
    return results.overdue_rectifications(session, within=admin.jurisdiction)


@router.get("/inspections/{inspection_id}", response_model=InspectionPublic | OperatorInspection)
def get_inspection(
    session: SessionDep, user: InspectorOrOperator, inspection_id: Id
) -> InspectionPublic | OperatorInspection:
    """One assignment (a member of its team), or for an operator one inspection of its
    enterprise's outlets; 404 otherwise."""
    if user.role == Role.OPERATOR:
        return assignments.one_for_operator(session, user, inspection_id)
    inspection, _ = results.get_assigned(session, inspection_id, user)
    return assignments.for_inspectors(session, [inspection])[0]


@router.put("/inspections/{inspection_id}/result", response_model=InspectionPublic)
def record_result(
    session: SessionDep, inspector: Inspector, inspection_id: Id, body: ResultRecord
) -> InspectionPublic:
    """An assigned inspector records the result; it is published at once. A `rectification`
    needs `rectify_by` (a date after `inspected_on`). Once the follow-up is recorded the
    result stands (409)."""
    inspection, member = results.get_assigned(session, inspection_id, inspector, for_update=True)
    results.record_result(session, inspection, member, **body.model_dump())
    return assignments.for_inspectors(session, [inspection])[0]


@router.put("/inspections/{inspection_id}/follow-up", response_model=InspectionPublic)
def record_follow_up(
    session: SessionDep, inspector: Inspector, inspection_id: Id, body: FollowUpRecord
) -> InspectionPublic:
    """The follow-up check (整改复查, `rectified` or `not_rectified`) of a rectification, by a
    member of the same team: it closes the inspection and is published with the result. 409
    `invalid_transition` unless the result is a rectification; a retry replaces it."""
    inspection, member = results.get_assigned(session, inspection_id, inspector, for_update=True)
    results.record_follow_up(session, inspection, member, **body.model_dump())
    return assignments.for_inspectors(session, [inspection])[0]


@router.post(
    "/inspections/{inspection_id}/evidence",
    response_model=EvidencePublic,
    status_code=status.HTTP_201_CREATED,
)
@reads_first
async def upload_evidence(
    request: Request, session: SessionDep, inspector: Inspector, inspection_id: Id
) -> EvidencePublic:
    """Evidence (PDF, JPEG, PNG) from an assigned inspector, stored like filing documents."""

    def attach(upload: CheckedUpload) -> EvidencePublic:
        inspection, member = results.get_assigned(session, inspection_id, inspector)
        evidence = results.add_evidence(
            session,
            inspection,
            member,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )
        return EvidencePublic.model_validate(evidence)

    return await store_checked_upload(request, session, attach)
