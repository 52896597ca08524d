"""Bad input is a 4xx problem, never a 500, and holds no memory (issue #10, items 4 and 5, Low):
integers past what their columns hold, sampling rates that are not numbers, malformed receipt
numbers, oversized bodies, LIKE wildcards in searches, control and invisible characters."""

import asyncio
import typing
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.main import app
from core.config import get_settings
from models.enterprise import Enterprise
from models.user import User
from services.receipts import public_cache
from services.receipts.issuing import ReceiptCheck
from tests.factories import (
    PASSWORD,
    auth,
    create_draft,
    filed_via_services,
    filing_body,
    make_enterprise,
    make_inspector,
    make_staff,
    operator_of,
    problem,
    valid_uscc,
)

TOO_BIG = 2**63  # one past the largest BIGINT
PAST_ID = 2**31  # one past the largest id (ids are INTEGER columns: PostgreSQL's int4)


# --- 1. integers ---------------------------------------------------------------------------


def _api_routes() -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, however this FastAPI keeps included routers."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.16x
    except ImportError:  # older FastAPI: app.routes holds the routes themselves
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, route
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path:
            yield context.path, context.original_route


def _is_integer(annotation: Any) -> bool:
    """`int`, `Annotated[int, …]`, or a union (`… | None`) of one."""
    if annotation is int:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_integer(typing.get_args(annotation)[0])
    return any(_is_integer(arg) for arg in typing.get_args(annotation))


def _integer_parameters() -> list[tuple[str, str, str, str, str]]:
    """(method, path, where, name, role) for every integer path or query parameter."""
    found = []
    for path, route in _api_routes():
        roles = (route.openapi_extra or {}).get("x-roles", ["public"])
        params = [("path", p) for p in route.dependant.path_params] + [
            ("query", p) for p in route.dependant.query_params
        ]
        for where, param in params:
            if _is_integer(param.field_info.annotation):
                for method in sorted(route.methods or ()):
                    found.append((method, path, where, param.alias, roles[0]))
    return found


INTEGER_PARAMETERS = _integer_parameters()


def test_the_walk_finds_the_routes_the_review_named() -> None:
    named = {(path, name) for _, path, _, name, _ in INTEGER_PARAMETERS}
    assert ("/api/v1/public/outlets", "offset") in named
    assert ("/api/v1/public/inspection-plans/{plan_id}", "plan_id") in named
    assert ("/api/v1/audit", "before_id") in named
    assert ("/api/v1/filings/{filing_id}/documents/{document_id}", "document_id") in named


def _caller(session: Session, role: str) -> dict[str, str]:
    if role == "public":
        return {}
    if role == "operator":
        return auth(operator_of(session, make_enterprise(session, region_code="451102")))
    return auth(make_staff(session, role=role, jurisdiction="451100"))


@pytest.mark.parametrize(
    ("method", "path", "where", "name", "role"),
    INTEGER_PARAMETERS,
    ids=[f"{m} {p} {n}" for m, p, _, n, _ in INTEGER_PARAMETERS],
)
def test_an_integer_past_bigint_is_a_422_on_every_route(
    client: TestClient, session: Session, method: str, path: str, where: str, name: str, role: str
) -> None:
    """2^63 everywhere; for ids also 2^31, past PostgreSQL's int4 (a 500 there otherwise)."""
    headers = _caller(session, role)
    for too_big in (TOO_BIG, PAST_ID) if name.endswith("_id") else (TOO_BIG,):
        params: dict[str, int] = {}
        url = path
        for segment in path.split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                value = too_big if (where == "path" and segment[1:-1] == name) else 1
                url = url.replace(segment, str(value))
        if where == "query":
            params[name] = too_big
        response = client.request(
            method, url, params=params, headers=headers, follow_redirects=False
        )
        if not path.startswith("/api/"):
            # A page: a 400 page, or the login page first for pages behind a login.
            assert response.status_code in (303, 400), (too_big, response.text)
            if response.status_code == 400:
                assert "请求有误" in response.text
            continue
        assert problem(response) == (422, "validation_error"), (too_big, response.text)
        assert name in {error["field"] for error in response.json()["errors"]}


def test_the_reviews_examples_are_422(client: TestClient, session: Session) -> None:
    admin = auth(make_staff(session, role="admin", jurisdiction="451100"))
    for url, headers in (
        (f"/api/v1/public/outlets?offset={TOO_BIG}", {}),
        (f"/api/v1/public/inspection-plans/{TOO_BIG}", {}),
        (f"/api/v1/public/inspection-plans/{TOO_BIG}/verification", {}),
        (f"/api/v1/audit?before_id={TOO_BIG}", admin),
        (f"/api/v1/audit?limit={TOO_BIG}", admin),
        (f"/api/v1/filings?offset={TOO_BIG}", admin),
        (f"/api/v1/filings?limit={TOO_BIG}", admin),
    ):
        assert problem(client.get(url, headers=headers)) == (422, "validation_error"), url


def test_an_id_past_int4_is_a_422_and_the_largest_an_ordinary_miss(client: TestClient) -> None:
    past = client.get(f"/api/v1/public/inspection-plans/{PAST_ID}")
    assert problem(past) == (422, "validation_error")
    largest = client.get(f"/api/v1/public/inspection-plans/{PAST_ID - 1}")
    assert problem(largest) == (404, "not_found")
    page = client.get(f"/api/v1/public/outlets?offset={2**63 - 1}")
    assert page.status_code == 200 and page.json()["items"] == []


def test_draw_source_values_are_bounded(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451100")
    response = client.post(
        "/api/v1/inspection-plans/1/draw", json={"sources": [[TOO_BIG]]}, headers=auth(admin)
    )
    assert problem(response) == (422, "validation_error")
    assert response.json()["errors"][0]["field"] == "sources.0.0"


def test_body_integers_past_bigint_are_422(client: TestClient, operator: User) -> None:
    response = client.post(
        "/api/v1/filings", json=filing_body(staff_count=TOO_BIG), headers=auth(operator)
    )
    assert problem(response) == (422, "validation_error")


# --- 2. sampling rates ---------------------------------------------------------------------


def _plan(**sampling: Any) -> dict[str, Any]:
    return {
        "name": "输入校验测试计划",
        "region_code": "451102",
        "item_codes": ["real_name"],
        "sampling": {"mode": "rate", **sampling},
        "team_size": 2,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "randomness_sources": "福彩 3D",
    }


@pytest.mark.parametrize(
    "rates",
    [
        {"low": "NaN", "medium": "0.1", "high": "0.3"},
        {"low": "0.1", "medium": "sNaN", "high": "0.3"},
        {"low": "0.1", "medium": "0.1", "high": "-sNaN"},
        {"low": "Infinity", "medium": "0.1", "high": "0.3"},
        {"low": "0.1", "medium": "-Infinity", "high": "0.3"},
        {"low": "-0.1", "medium": "0.1", "high": "0.3"},
        {"low": "0.1", "medium": "1.000001", "high": "0.3"},
        {"low": "0.1234567", "medium": "0.1", "high": "0.3"},  # past exact arithmetic
        {"low": "1E-999999999999999999", "medium": "0.1", "high": "0.3"},
        ["0.1", "0.2", "0.3"],
        "0.1",
    ],
    ids=lambda rates: str(rates)[:40],
)
def test_sampling_rates_that_are_not_rates_are_422(
    client: TestClient, session: Session, rates: Any
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    response = client.post("/api/v1/inspection-plans", json=_plan(rates=rates), headers=auth(admin))
    assert problem(response) == (422, "validation_error"), response.text


def test_a_negative_zero_rate_is_zero(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    rates = {"low": "-0", "medium": "0.1", "high": "1"}
    response = client.post("/api/v1/inspection-plans", json=_plan(rates=rates), headers=auth(admin))
    assert response.status_code == 201, response.text
    assert response.json()["sampling"]["rates"] == {"low": "0", "medium": "0.1", "high": "1"}


# --- 3. receipt numbers --------------------------------------------------------------------

MALFORMED = [
    "451102-2026-000001-R1" + "x" * 8000,
    "x" * 8000,
    "451102-2026-000001",
    "451102-2026-000001-R0",
    "４５１１０２-2026-000001-R1",  # full-width digits
    "451102-2026-000001-R1\n",
    "' OR 1=1 --",
]


@pytest.mark.parametrize("number", MALFORMED, ids=lambda n: repr(n)[:24])
def test_a_malformed_receipt_number_is_not_found(client: TestClient, number: str) -> None:
    api = client.get(f"/api/v1/public/receipts/{quote(number, safe='')}")
    assert problem(api) == (404, "not_found")
    page = client.get(f"/verify/{quote(number, safe='')}")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_malformed_numbers_reach_neither_the_cache_nor_the_database(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's own reader (the one the live server uses), with lookups counted."""
    reader = public_cache.shared_reader()
    looked_up: list[str] = []

    def counted(receipt_no: str) -> ReceiptCheck | None:
        looked_up.append(receipt_no)
        return None

    monkeypatch.setattr(reader, "_lookup", counted)
    cache = getattr(reader, "_cache", None)
    assert isinstance(cache, public_cache.AnswerCache)
    before = len(cache.found) + len(cache.missing)

    async def check_all() -> list[ReceiptCheck | None]:
        return [await reader.receipt(f"{n}-{i}") for n in MALFORMED for i in range(50)]

    assert asyncio.run(check_all()) == [None] * (50 * len(MALFORMED))
    assert looked_up == []
    assert len(cache.found) + len(cache.missing) == before


def test_unknown_well_formed_numbers_are_bounded_and_never_evict_real_answers() -> None:
    cache = public_cache.AnswerCache(found=3, missing=5)
    answer = object()
    for n in range(3):
        cache.put(f"451102-2026-{n:06d}-R1", 1, answer)
    for n in range(1000):
        cache.put(f"451102-2026-{n + 100:06d}-R1", 1, None)
    assert len(cache.missing) == 5
    assert [cache.get(f"451102-2026-{n:06d}-R1", 1) for n in range(3)] == [answer] * 3
    assert cache.get("451102-2026-001099-R1", 1) is None  # the latest unknown: cached
    assert cache.get("451102-2026-000100-R1", 1) is not None  # the oldest: dropped (a miss)


def test_the_owners_receipt_view_refuses_a_malformed_number(
    client: TestClient, operator: User
) -> None:
    for url in (
        "/api/v1/receipts/%00",
        "/api/v1/receipts/x%00/pdf",
        "/api/v1/receipts/" + "9" * 5000,
    ):
        assert problem(client.get(url, headers=auth(operator))) in {
            (404, "not_found"),
            (422, "validation_error"),
        }, url


# --- 4. request bodies ---------------------------------------------------------------------


def _registration(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "请求体上限测试快递有限公司",
        "uscc": valid_uscc(4343),
        "licence_no": "桂邮20180099",
        "region_code": "451102",
        "is_branch": False,
        "contact_name": "李四",
        "contact_mobile": "13877401234",
        "username": "body-limit-operator",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def _enterprises(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Enterprise)).one()


def test_a_declared_oversized_body_is_413_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    before = _enterprises(session)
    limit = get_settings().max_json_bytes
    padded = _registration(name="x" * (limit + 1))
    response = client.post("/api/v1/enterprises/register", json=padded)
    assert problem(response) == (413, "payload_too_large")
    assert response.headers["content-type"] == "application/problem+json"
    assert "X-Request-ID" in response.headers
    assert _enterprises(session) == before


def test_a_chunked_body_is_counted_and_refused_once_past_the_limit(
    client: TestClient, session: Session
) -> None:
    before = _enterprises(session)
    limit = get_settings().max_json_bytes
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(4 * limit // 65536):
            sent.append(65536)
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/enterprises/register",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert problem(response) == (413, "payload_too_large")
    assert _enterprises(session) == before


def test_a_multipart_body_on_a_json_route_meets_a_backstop(client: TestClient) -> None:
    settings = get_settings()
    declared = settings.max_upload_bytes + settings.max_json_bytes + 1
    response = client.post(
        "/api/v1/enterprises/register",
        content=b"x" * declared,
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert problem(response) == (413, "payload_too_large")


def test_a_body_within_the_limit_still_works(client: TestClient) -> None:
    response = client.post("/api/v1/enterprises/register", json=_registration())
    assert response.status_code == 201, response.text


def test_chunked_bodies_are_counted_by_a_real_server(live_server: str) -> None:
    limit = get_settings().max_json_bytes

    def chunks() -> Iterator[bytes]:
        for _ in range(4 * limit // 65536):
            yield b"x" * 65536

    with httpx.Client(base_url=live_server, timeout=30) as http:
        response = http.post(
            "/api/v1/auth/token",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert problem(response) == (413, "payload_too_large")
        assert http.get("/healthz").status_code == 200


# --- 5. LIKE wildcards ---------------------------------------------------------------------


def test_q_wildcards_in_the_filing_list_match_only_themselves(
    client: TestClient, operator: User
) -> None:
    create_draft(client, operator, name="百分之百%服务站")
    create_draft(client, operator, name="下划线_服务站")
    create_draft(client, operator, name="反斜杠\\服务站")
    create_draft(client, operator, name="普通服务站")

    def names(q: str) -> list[str]:
        response = client.get("/api/v1/filings", params={"q": q}, headers=auth(operator))
        assert response.status_code == 200, response.text
        return sorted(item["outlet_name"] for item in response.json()["items"])

    assert names("%") == ["百分之百%服务站"]
    assert names("_") == ["下划线_服务站"]
    assert names("\\") == ["反斜杠\\服务站"]
    assert names("%服务") == ["百分之百%服务站"]
    assert len(names("服务站")) == 4


def test_q_wildcards_in_the_public_directory_match_only_themselves(
    client: TestClient, session: Session, operator: User, reviewer: User
) -> None:
    for name in ("名录百分%站", "名录下划_站", "名录普通站"):
        filed_via_services(session, operator, reviewer, name=name)

    def names(q: str, **filters: str) -> list[str]:
        response = client.get("/api/v1/public/outlets", params={"q": q, **filters})
        assert response.status_code == 200, response.text
        return [item["name"] + item["address"] for item in response.json()["items"]]

    for q in ("%", "_", "%%", "__", "%%%", "___"):
        for filters in ({}, {"county": "451102"}):
            found = names(q, **filters)
            assert all(q in text for text in found), (q, filters, found)
    assert any("名录百分%站" in text for text in names("%"))
    assert any("名录下划_站" in text for text in names("_", county="451102"))


# --- 6. text fields ------------------------------------------------------------------------

BAD_NAMES = [
    "网点\x00名称",
    "网点\t名称",
    "网点\n名称",  # a name is one line
    "网点\x7f名称",
    "网点\u0085名称",  # C1 next line
    "\u202e站点务服",  # right-to-left override: displays reversed
    "\u200b\u200b",  # zero-width spaces only
    "\u200c\u200d\u2060\ufeff",
    "\u3000 \u00a0",  # whitespace only (ideographic, no-break)
    "\u2066\u2069",  # bidi isolates only
    "\u3164",  # Hangul filler, shows nothing
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda name: repr(name)[:24])
def test_filing_names_refuse_control_and_invisible_characters(
    client: TestClient, operator: User, name: str
) -> None:
    response = client.post("/api/v1/filings", json=filing_body(name=name), headers=auth(operator))
    assert problem(response) == (422, "validation_error"), response.text
    assert "outlet.name" in {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda name: repr(name)[:24])
def test_registration_refuses_control_and_invisible_characters(
    client: TestClient, session: Session, name: str
) -> None:
    before = _enterprises(session)
    response = client.post("/api/v1/enterprises/register", json=_registration(name=name))
    assert problem(response) == (422, "validation_error"), response.text
    assert "name" in {error["field"] for error in response.json()["errors"]}
    contact = client.post("/api/v1/enterprises/register", json=_registration(contact_name=name))
    assert problem(contact) == (422, "validation_error"), contact.text
    assert _enterprises(session) == before


def test_ordinary_names_with_joiners_and_spaces_are_kept(
    client: TestClient, operator: User
) -> None:
    filing = create_draft(client, operator, name="  贺州 八步\u200d快递站  ")
    assert filing["outlet"]["name"] == "贺州 八步\u200d快递站"


def test_long_text_keeps_newlines_and_refuses_other_controls(
    client: TestClient, session: Session, operator: User, reviewer: User, fixed_clock: Any
) -> None:
    filing = filed_via_services(session, operator, reviewer)
    url = f"/api/v1/filings/{filing.id}/closure"
    bad = client.post(
        url, json={"closed_on": "2026-11-25", "reason": "停业\x00"}, headers=auth(operator)
    )
    assert problem(bad) == (422, "validation_error")
    good = client.post(
        url,
        json={"closed_on": "2026-11-25", "reason": "店面到期\r\n不再续租"},
        headers=auth(operator),
    )
    assert good.status_code == 200, good.text
    assert good.json()["end_reason"] == "店面到期\n不再续租"


def test_filters_and_codes_refuse_control_characters(client: TestClient, operator: User) -> None:
    for params in ({"q": "站\x00"}, {"county": "4511\x00"}, {"status": "draft\x00"}):
        response = client.get("/api/v1/filings", params=params, headers=auth(operator))
        assert problem(response) == (422, "validation_error"), params
    directory = client.get("/api/v1/public/outlets", params={"brand": "SF\x00"})
    assert problem(directory) == (422, "validation_error")


# --- explicit nulls in PATCH bodies (found by the fuzz run: a NULL written to a NOT NULL column)


def test_patch_fields_given_as_null_are_422_and_change_nothing(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    inspector, _ = make_inspector(session, admin, "NULL-0001", jurisdiction="451102")
    url = f"/api/v1/inspectors/{inspector.id}"
    for body in ({"active": None}, {"name": None}, {"conflicts": None}):
        response = client.patch(url, json=body, headers=auth(admin))
        assert problem(response) == (422, "validation_error"), (body, response.text)
        assert response.json()["errors"][0]["field"] == next(iter(body))
    renamed = client.patch(url, json={"name": "改名后"}, headers=auth(admin))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["active"] is True


def test_brand_patch_with_null_is_422(client: TestClient, session: Session) -> None:
    city_admin = make_staff(session, role="admin", jurisdiction="451100")
    for body in ({"active": None}, {"name": None}):
        response = client.patch("/api/v1/brands/SF", json=body, headers=auth(city_admin))
        assert problem(response) == (422, "validation_error"), (body, response.text)


# --- timestamps (found by the fuzz run: SQLite hands them back without their offset) --------


def test_timestamps_read_back_from_the_database_carry_their_offset(
    client: TestClient, session: Session, operator: User
) -> None:
    created = create_draft(client, operator)
    session.expire_all()  # read back from the database, not the objects this test made
    me = client.get("/api/v1/auth/me", headers=auth(operator)).json()
    filing = client.get(f"/api/v1/filings/{created['id']}", headers=auth(operator)).json()
    for moment in (me["created_at"], filing["created_at"], filing["updated_at"]):
        assert moment.endswith("Z") or moment[-6] in "+-", moment


@pytest.mark.parametrize(
    ("sampling", "field"),
    [
        ({"rates": {"low": "0.1", "medium": "0.1"}}, "sampling.rates.high"),
        ({"rates": {"low": "2", "medium": "0.1", "high": "0.3"}}, "sampling.rates.low"),
    ],
)
def test_a_sampling_error_names_the_field_a_client_sent(
    client: TestClient, session: Session, sampling: dict[str, Any], field: str
) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    response = client.post("/api/v1/inspection-plans", json=_plan(**sampling), headers=auth(admin))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_rate_is_published_as_the_text_it_was_given(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role="admin", jurisdiction="451102")
    rates = {"low": "5e-2", "medium": "0.100", "high": 1}
    response = client.post("/api/v1/inspection-plans", json=_plan(rates=rates), headers=auth(admin))
    assert response.status_code == 201, response.text
    assert response.json()["sampling"]["rates"] == {"low": "5e-2", "medium": "0.100", "high": "1"}
