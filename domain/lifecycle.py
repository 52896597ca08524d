"""The state machines as tables of (status, action) -> status: a filing's (SPEC §3) and an
inspection plan's (SPEC §6). Every transition not in a table is a 409 `invalid_transition`.

Editing, documents, submission and review act on the revision being worked on (the first filing,
or an open change of a filed outlet); closure, revocation and lapse act on the filing itself.
"""

from domain.errors import InvalidTransition
from domain.vocabulary import FilingAction, FilingStatus, PlanAction, PlanStatus, RevisionStatus

TRANSITIONS: dict[tuple[FilingStatus, FilingAction], FilingStatus] = {
    (FilingStatus.DRAFT, FilingAction.EDIT): FilingStatus.DRAFT,
    (FilingStatus.RETURNED, FilingAction.EDIT): FilingStatus.RETURNED,
    (FilingStatus.DRAFT, FilingAction.SUBMIT): FilingStatus.SUBMITTED,
    (FilingStatus.RETURNED, FilingAction.SUBMIT): FilingStatus.SUBMITTED,
    (FilingStatus.SUBMITTED, FilingAction.ACCEPT): FilingStatus.FILED,
    (FilingStatus.SUBMITTED, FilingAction.RETURN): FilingStatus.RETURNED,
    (FilingStatus.FILED, FilingAction.OPEN_CHANGE): FilingStatus.FILED,
    (FilingStatus.FILED, FilingAction.CLOSE): FilingStatus.CLOSED,
    (FilingStatus.FILED, FilingAction.REVOKE): FilingStatus.REVOKED,
    (FilingStatus.FILED, FilingAction.LAPSE): FilingStatus.LAPSED,
}

PLAN_TRANSITIONS: dict[tuple[PlanStatus, PlanAction], PlanStatus] = {
    (PlanStatus.DRAFT, PlanAction.EDIT): PlanStatus.DRAFT,
    (PlanStatus.DRAFT, PlanAction.ANNOUNCE): PlanStatus.ANNOUNCED,
    (PlanStatus.DRAFT, PlanAction.CANCEL): PlanStatus.CANCELLED,
    (PlanStatus.ANNOUNCED, PlanAction.CANCEL): PlanStatus.CANCELLED,
    (PlanStatus.ANNOUNCED, PlanAction.DRAW): PlanStatus.DRAWN,
}


def _label(status: str) -> str:
    for vocabulary in (FilingStatus, RevisionStatus, PlanStatus):
        if status in vocabulary.values():
            return vocabulary(status).label
    return status


def next_status(status: str, action: FilingAction) -> FilingStatus:
    """A filing's (or its working revision's) status after `action`, or InvalidTransition."""
    known = status in FilingStatus.values()
    found = TRANSITIONS.get((FilingStatus(status), action)) if known else None
    if found is None:
        raise InvalidTransition(
            f"当前状态（{_label(status)}）下不能{action.label}",
            current_status=status,
            action=action.value,
        )
    return found


def next_plan_status(status: str, action: PlanAction) -> PlanStatus:
    """An inspection plan's status after `action`, or InvalidTransition."""
    known = status in PlanStatus.values()
    found = PLAN_TRANSITIONS.get((PlanStatus(status), action)) if known else None
    if found is None:
        raise InvalidTransition(f"该计划当前状态（{_label(status)}）下不能{action.label}")
    return found
