from domain.errors import FieldError
from domain.identifiers import (
    id_number_error,
    mask_mobile,
    mask_name,
    mobile_error,
    normalise_mobile,
    uscc_error,
)
from tests.factories import valid_id_number, valid_uscc


def code_of(error: FieldError | None) -> str:
    assert error is not None, "expected a field error"
    return error.code


def test_valid_uscc_passes() -> None:
    assert uscc_error(valid_uscc(1)) is None


def test_uscc_with_wrong_check_digit_is_invalid_uscc() -> None:
    good = valid_uscc(1)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert code_of(uscc_error(bad)) == "invalid_uscc"


def test_id_number_with_area_code_missing_from_tables_is_accepted() -> None:
    assert id_number_error(valid_id_number(area="999999")) is None


def test_id_number_with_wrong_check_digit_is_invalid() -> None:
    good = valid_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert code_of(id_number_error(bad)) == "invalid_id_number"


def test_id_number_with_impossible_birth_date_is_invalid() -> None:
    assert code_of(id_number_error(valid_id_number(birth="19851332"))) == "invalid_id_number"


def test_id_number_born_in_the_future_is_invalid() -> None:
    assert code_of(id_number_error(valid_id_number(birth="20991231"))) == "invalid_id_number"


def test_mobile_accepts_plus86_and_rejects_wrong_second_digit() -> None:
    assert mobile_error("+8613877401234") is None
    assert normalise_mobile("+86 138-7740-1234") == "13877401234"
    assert code_of(mobile_error("12877401234")) == "invalid_phone"
    assert code_of(mobile_error("1387740123")) == "invalid_phone"


def test_masking_keeps_only_what_identifies_nobody() -> None:
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修文") == "欧***"
