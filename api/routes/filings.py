from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import Admin, AnyUser, Operator, Reviewer, SessionDep, reads_first
from api.idempotency import IdempotencyDep, Idempotent
from api.uploads import CheckedUpload, store_checked_upload
from domain.errors import FieldError, ValidationFailed
from domain.vocabulary import Decision, DocumentKind
from models.filing import Filing
from models.user import User
from schemas.common import Filter, Id, Offset, Page, SearchText, Written
from schemas.filings import (
    ChangeOpen,
    Closure,
    DocumentPublic,
    FilingContent,
    FilingEventPublic,
    FilingPatch,
    FilingPublic,
    FilingSummary,
    ReviewDecision,
    Revocation,
)
from schemas.inspections import RiskOverride
from services.filings import access, actions, documents, presenters, queries
from services.inspections import risk
from web.documents import document_response

router = APIRouter(prefix="/filings", tags=["filings"])

IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _act(
    session: SessionDep,
    user: User,
    response: Response,
    idem: Idempotent,
    filing_id: Id,
    if_match: str | None,
    action: Callable[[Filing], object],
    *,
    status_code: int = 200,
) -> FilingPublic | JSONResponse:
    """Loads the filing for writing, honours If-Match, runs `action`, answers with the filing."""

    def produce() -> Written[FilingPublic]:
        filing = access.get_for(session, filing_id, user, for_update=True)
        access.check_version(filing, if_match)
        action(filing)
        return presenters.written(session, filing)

    return idem.respond(session, user, response, produce, status_code=status_code)


@router.post("", response_model=FilingPublic, status_code=status.HTTP_201_CREATED)
def create_filing(
    session: SessionDep,
    operator: Operator,
    idem: IdempotencyDep,
    body: FilingContent,
    response: Response,
) -> FilingPublic | JSONResponse:
    """Creates a draft filing of an outlet for the operator's enterprise."""

    def produce() -> Written[FilingPublic]:
        filing = actions.create(session, operator=operator, raw=body.model_dump(mode="json"))
        return presenters.written(session, filing, location=f"/api/v1/filings/{filing.id}")

    return idem.respond(session, operator, response, produce, status_code=201)


@router.get("", response_model=Page[FilingSummary])
def list_filings(
    session: SessionDep,
    user: AnyUser,
    status_: Annotated[Filter | None, Query(alias="status")] = None,
    county: Filter | None = None,
    township: Filter | None = None,
    brand: Annotated[Filter | None, Query(description="品牌代码或中文名称，如 SF 或 顺丰")] = None,
    q: SearchText | None = None,
    late: bool | None = None,
    overdue: bool | None = None,
    queue: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> Page[FilingSummary]:
    """Operators see their enterprise's filings, reviewers and admins those in their jurisdiction.

    `queue=true` lists submissions awaiting a decision, earliest due date first.
    """
    filters = queries.ListFilters(
        status=status_,
        county=county,
        township=township,
        brand=brand,
        q=q,
        late=late,
        overdue=overdue,
        queue=queue,
    )
    rows, total = queries.list_filings(session, user, filters, limit=limit, offset=offset)
    return Page(items=presenters.summaries(session, rows), total=total, limit=limit, offset=offset)


@router.get("/{filing_id}", response_model=FilingPublic)
def get_filing(
    session: SessionDep, user: AnyUser, filing_id: Id, response: Response
) -> FilingPublic:
    """The filing (owner, or reviewer/admin covering it). Carries an ETag for If-Match."""
    filing = access.get_for(session, filing_id, user)
    response.headers["ETag"] = access.etag(filing)
    return presenters.present(session, filing)


@router.patch("/{filing_id}", response_model=FilingPublic)
def update_filing(
    session: SessionDep,
    response: Response,
    operator: Operator,
    filing_id: Id,
    body: FilingPatch,
    if_match: IfMatch = None,
) -> FilingPublic | JSONResponse:
    """Edits the draft, the returned submission, or the open change."""
    patch = body.model_dump(exclude_unset=True)
    return _act(
        session,
        operator,
        response,
        Idempotent.without_key(),
        filing_id,
        if_match,
        lambda filing: actions.update(session, filing, actor=operator, patch=patch),
    )


@router.post("/{filing_id}/documents", response_model=DocumentPublic, status_code=201)
@reads_first
async def upload_document(
    request: Request,
    response: Response,
    session: SessionDep,
    operator: Operator,
    filing_id: Id,
    if_match: IfMatch = None,
) -> DocumentPublic:
    """Multipart `kind` + `file`: PDF, JPEG or PNG judged by content, at most MAX_UPLOAD_BYTES."""

    def check_kind(fields: dict[str, str]) -> None:
        if fields.get("kind", "") not in DocumentKind.values():
            allowed = list(DocumentKind.values())
            message = "文件类别应为：" + "、".join(allowed)
            raise ValidationFailed([FieldError("kind", "validation_error", message, allowed)])

    def attach(upload: CheckedUpload) -> tuple[DocumentPublic, str]:
        filing = access.get_for(session, filing_id, operator, for_update=True)
        access.check_version(filing, if_match)
        document = documents.add_document(
            session,
            filing,
            actor=operator,
            file=documents.StoredFile(
                upload.fields["kind"],
                upload.filename,
                upload.content_type,
                upload.size,
                upload.sha256,
            ),
        )
        return DocumentPublic.model_validate(document, from_attributes=True), access.etag(filing)

    document, filing_etag = await store_checked_upload(
        request, session, attach, check_fields=check_kind
    )
    response.headers["ETag"] = filing_etag
    return document


@router.get("/{filing_id}/documents/{document_id}")
def download_document(
    session: SessionDep, user: AnyUser, filing_id: Id, document_id: Id
) -> StreamingResponse:
    """The file (owner, or reviewer/admin covering the outlet). Reading a person's ID document
    is recorded in the audit trail."""
    filing = access.get_for(session, filing_id, user)
    return document_response(session, filing, document_id, user, disposition="attachment")


@router.delete("/{filing_id}/documents/{document_id}", status_code=204)
def delete_document(
    session: SessionDep,
    operator: Operator,
    filing_id: Id,
    document_id: Id,
    if_match: IfMatch = None,
) -> Response:
    """Removes a document from the draft, returned submission or open change."""
    filing = access.get_for(session, filing_id, operator, for_update=True)
    access.check_version(filing, if_match)
    documents.remove_document(session, filing, actor=operator, document_id=document_id)
    return Response(status_code=204, headers={"ETag": access.etag(filing)})


@router.post("/{filing_id}/submit", response_model=FilingPublic)
def submit_filing(
    session: SessionDep,
    response: Response,
    operator: Operator,
    idem: IdempotencyDep,
    filing_id: Id,
    if_match: IfMatch = None,
) -> FilingPublic | JSONResponse:
    """Submits the draft, the corrected submission or the open change for review."""
    return _act(
        session,
        operator,
        response,
        idem,
        filing_id,
        if_match,
        lambda filing: actions.submit(session, filing, actor=operator),
    )


@router.post("/{filing_id}/review", response_model=FilingPublic)
def review_filing(
    session: SessionDep,
    response: Response,
    reviewer: Reviewer,
    idem: IdempotencyDep,
    filing_id: Id,
    body: ReviewDecision,
    if_match: IfMatch = None,
) -> FilingPublic | JSONResponse:
    """Accept (a filing number and receipt are issued at once) or return with every correction."""

    def decide(filing: Filing) -> None:
        if body.decision == Decision.ACCEPT:
            actions.accept(session, filing, reviewer=reviewer)
        else:
            actions.return_for_correction(
                session,
                filing,
                reviewer=reviewer,
                corrections=[item.model_dump(exclude_none=True) for item in body.corrections],
            )

    return _act(session, reviewer, response, idem, filing_id, if_match, decide)


@router.post("/{filing_id}/changes", response_model=FilingPublic, status_code=201)
def open_change(
    session: SessionDep,
    response: Response,
    operator: Operator,
    idem: IdempotencyDep,
    filing_id: Id,
    body: ChangeOpen | None = None,
    if_match: IfMatch = None,
) -> FilingPublic | JSONResponse:
    """Opens a change (a copy of the revision in force); only one may be open at a time.

    The body `{changed_on?, reason?}` may be left out; `changed_on` can follow by PATCH and is
    required before the change is submitted."""
    opened = body or ChangeOpen()
    return _act(
        session,
        operator,
        response,
        idem,
        filing_id,
        if_match,
        lambda filing: actions.open_new_change(
            session, filing, actor=operator, changed_on=opened.changed_on, reason=opened.reason
        ),
        status_code=201,
    )


@router.post("/{filing_id}/closure", response_model=FilingPublic)
def close_filing(
    session: SessionDep,
    response: Response,
    operator: Operator,
    idem: IdempotencyDep,
    filing_id: Id,
    body: Closure,
    if_match: IfMatch = None,
) -> FilingPublic | JSONResponse:
    """The operator reports that the outlet has closed."""
    return _act(
        session,
        operator,
        response,
        idem,
        filing_id,
        if_match,
        lambda filing: actions.close(
            session, filing, actor=operator, closed_on=body.closed_on, reason=body.reason
        ),
    )


@router.post("/{filing_id}/revocation", response_model=FilingPublic)
def revoke_filing(
    session: SessionDep,
    response: Response,
    reviewer: Reviewer,
    idem: IdempotencyDep,
    filing_id: Id,
    body: Revocation,
    if_match: IfMatch = None,
) -> FilingPublic | JSONResponse:
    """Revokes a false or invalid filing (reviewer covering the outlet)."""
    return _act(
        session,
        reviewer,
        response,
        idem,
        filing_id,
        if_match,
        lambda filing: actions.revoke(session, filing, reviewer=reviewer, reason=body.reason),
    )


@router.put("/{filing_id}/risk", response_model=FilingPublic)
def override_risk(
    session: SessionDep, admin: Admin, filing_id: Id, body: RiskOverride
) -> FilingPublic:
    """Sets (or with `level: null` clears) the risk level used by inspection sampling; audited."""
    filing = access.get_for(session, filing_id, admin, for_update=True)
    risk.override(session, filing, admin=admin, level=body.level, reason=body.reason)
    return presenters.present(session, filing)


@router.get("/{filing_id}/history", response_model=list[FilingEventPublic])
def filing_history(session: SessionDep, user: AnyUser, filing_id: Id) -> list[FilingEventPublic]:
    """Every event: who, when, from which status to which."""
    filing = access.get_for(session, filing_id, user)
    return [
        FilingEventPublic.model_validate(event, from_attributes=True).model_copy(
            update={"actor": name}
        )
        for event, name in queries.history(session, filing)
    ]
