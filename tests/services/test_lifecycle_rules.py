"""Domain rules tested directly: the transition table, deadlines, lateness, documents, merge."""

from datetime import date

import pytest

from domain.errors import InvalidTransition
from domain.lifecycle import TRANSITIONS, next_status
from domain.working_days import add_working_days, is_working_day, working_days_between
from services.filings import rules as filing_rules

STATUSES = ("draft", "submitted", "returned", "filed", "closed", "revoked", "lapsed")
ACTIONS = ("edit", "submit", "accept", "return", "open_change", "close", "revoke", "lapse")


def test_transition_table_matches_the_specification() -> None:
    assert next_status("draft", "submit") == "submitted"
    assert next_status("submitted", "accept") == "filed"
    assert next_status("submitted", "return") == "returned"
    assert next_status("returned", "submit") == "submitted"
    assert next_status("filed", "close") == "closed"
    assert next_status("filed", "revoke") == "revoked"
    assert next_status("filed", "lapse") == "lapsed"


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_pair_outside_the_table_is_invalid(status: str, action: str) -> None:
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            next_status(status, action)


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
