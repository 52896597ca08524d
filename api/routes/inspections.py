from fastapi import APIRouter, Request, status

from api.deps import Admin, Inspector, SessionDep, Staff, reads_first
from api.uploads import CheckedUpload, store_checked_upload
from schemas.common import Filter, Id
from schemas.inspections import (
    DrawRequest,
    EvidencePublic,
    InspectionItemCreate,
    InspectionItemPublic,
    InspectionItemUpdate,
    InspectionPublic,
    InspectorCreate,
    InspectorPublic,
    InspectorUpdate,
    PlanCancellation,
    PlanCreate,
    PlanSummary,
    PlanUpdate,
    PublishedPlan,
    ResultRecord,
)
from schemas.oversight import OverdueResult
from services.inspections import directories, draws, plans, publication, results

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


@router.get("/inspections", response_model=list[InspectionPublic])
def my_inspections(session: SessionDep, inspector: Inspector) -> list[InspectionPublic]:
    """The caller's own assignments."""
    return [InspectionPublic.model_validate(i) for i in results.assignments_of(session, inspector)]


@router.get("/inspections/overdue", response_model=list[OverdueResult])
def overdue_results(session: SessionDep, admin: Admin) -> list[OverdueResult]:
    """Inspections whose results are late (20 working days, official calendar)."""
    return results.overdue(session, within=admin.jurisdiction)


@router.get("/inspections/{inspection_id}", response_model=InspectionPublic)
def get_inspection(
    session: SessionDep, inspector: Inspector, inspection_id: Id
) -> InspectionPublic:
    inspection, _ = results.get_assigned(session, inspection_id, inspector)
    return InspectionPublic.model_validate(inspection)


@router.put("/inspections/{inspection_id}/result", response_model=InspectionPublic)
def record_result(
    session: SessionDep, inspector: Inspector, inspection_id: Id, body: ResultRecord
) -> InspectionPublic:
    """An assigned inspector records the result; it is published at once."""
    inspection, member = results.get_assigned(session, inspection_id, inspector, for_update=True)
    results.record_result(session, inspection, member, **body.model_dump())
    return InspectionPublic.model_validate(inspection)


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
