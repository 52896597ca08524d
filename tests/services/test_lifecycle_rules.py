"""Domain rules tested directly: the transition table, deadlines, lateness, documents, merge."""

from datetime import date

import pytest

from domain.errors import InvalidTransition
from domain.lifecycle import PLAN_TRANSITIONS, TRANSITIONS, next_plan_status, next_status
from domain.vocabulary import FilingAction, FilingStatus, PlanAction, PlanStatus
from domain.working_days import add_working_days, is_working_day, working_days_between
from services.filings import rules as filing_rules

TRANSITION_ACTIONS = [
    FilingAction.EDIT,
    FilingAction.SUBMIT,
    FilingAction.ACCEPT,
    FilingAction.RETURN,
    FilingAction.OPEN_CHANGE,
    FilingAction.CLOSE,
    FilingAction.REVOKE,
    FilingAction.LAPSE,
]


def test_transition_table_matches_the_specification() -> None:
    assert next_status("draft", FilingAction.SUBMIT) == "submitted"
    assert next_status("submitted", FilingAction.ACCEPT) == "filed"
    assert next_status("submitted", FilingAction.RETURN) == "returned"
    assert next_status("returned", FilingAction.SUBMIT) == "submitted"
    assert next_status("filed", FilingAction.CLOSE) == "closed"
    assert next_status("filed", FilingAction.REVOKE) == "revoked"
    assert next_status("filed", FilingAction.LAPSE) == "lapsed"


@pytest.mark.parametrize("status", list(FilingStatus))
@pytest.mark.parametrize("action", TRANSITION_ACTIONS)
def test_every_pair_outside_the_table_is_invalid(status: str, action: FilingAction) -> None:
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(FilingStatus(status), action)]
    else:
        with pytest.raises(InvalidTransition, match=FilingStatus(status).label):
            next_status(status, action)


def test_a_revision_status_outside_the_table_is_invalid_not_an_error() -> None:
    with pytest.raises(InvalidTransition, match="已被取代"):
        next_status("superseded", FilingAction.EDIT)


@pytest.mark.parametrize("status", list(PlanStatus))
@pytest.mark.parametrize("action", list(PlanAction))
def test_every_plan_pair_outside_its_table_is_invalid(status: str, action: PlanAction) -> None:
    if (status, action) in PLAN_TRANSITIONS:
        assert next_plan_status(status, action) == PLAN_TRANSITIONS[(PlanStatus(status), action)]
    else:
        with pytest.raises(InvalidTransition):
            next_plan_status(status, action)


def test_end_states_allow_nothing() -> None:
    for status in ("closed", "revoked", "lapsed"):
        assert not [action for (s, action) in TRANSITIONS if s == status]


def test_working_days_skip_weekends() -> None:
    # Friday 2026-11-27 + 1 working day = Monday 2026-11-30.
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


def test_working_days_follow_the_official_holiday_and_adjusted_saturday() -> None:
    # National Day 2026: 10-01..10-07 off; Saturday 10-10 is an adjusted working day.
    assert not is_working_day(date(2026, 10, 5))
    assert is_working_day(date(2026, 10, 10))
    # Submitted Wednesday 09-30: working days are 10-08, 10-09, 10-10 (Sat), 10-12, 10-13.
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5


def test_years_beyond_the_calendar_fall_back_to_weekdays() -> None:
    assert is_working_day(date(2031, 3, 3))  # a Monday
    assert not is_working_day(date(2031, 3, 1))  # a Saturday


def test_lateness_counts_calendar_days() -> None:
    opened = date(2026, 11, 1)
    assert not filing_rules.is_late(
        submitted_on=date(2026, 11, 21), started_on=opened, allowed_days=20
    )
    assert filing_rules.is_late(submitted_on=date(2026, 11, 22), started_on=opened, allowed_days=20)


def test_required_documents_depend_on_branch_and_cooperation() -> None:
    assert filing_rules.missing_documents(
        {"business_licence", "id_document", "premises_photo"},
        outlet_type="cooperative",
        is_branch=True,
    ) == ["authorisation_letter", "cooperation_agreement"]
    assert filing_rules.missing_documents(set(), outlet_type="self_operated", is_branch=False) == [
        "business_licence",
        "id_document",
        "premises_photo",
    ]


def test_merge_replaces_only_patched_fields_and_null_partner_removes_it() -> None:
    current = {
        "outlet": {"name": "a", "address": "b"},
        "person_in_charge": {"name": "c"},
        "partner": {"name": "p"},
    }
    merged = filing_rules.merge(current, {"outlet": {"address": "x"}, "partner": None})
    assert merged["outlet"] == {"name": "a", "address": "x"}
    assert merged["partner"] is None
    assert current["outlet"]["address"] == "b"
