"""Page tests: a client that speaks https like the browsers of a deployment (the session and
CSRF cookies are Secure when PUBLIC_BASE_URL is https, as it is in the tests)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.main import app
from tests.api.test_inspections_11 import world  # noqa: F401  (a fixture the pages reuse)
from tests.conftest import serve_from


@pytest.fixture
def pages(session: Session, engine: Engine) -> Iterator[TestClient]:
    serve_from(session, engine)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
    app.dependency_overrides.clear()
