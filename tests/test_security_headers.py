"""Response headers: nosniff and a referrer policy everywhere; a content security policy on
pages, /docs and files (no framing by other sites); /docs served from here, or turned off."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage

from api.main import create_app
from core.config import get_settings


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/verify/451102-2026-999999-R1")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_json_answers_carry_nosniff_and_a_referrer_policy(client: TestClient) -> None:
    response = client.get("/api/v1/public/keys")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # no inline script: the page works under the policy
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/docs.js",
    ):
        assert asset in page.text
        assert client.get(asset).status_code == 200
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]


def test_docs_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "docs_enabled", False)
    with TestClient(create_app()) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_docs_render_in_a_browser_under_the_policy(live_server: str, browser: Browser) -> None:
    page = browser.new_page()
    refused: list[str] = []

    def note_refusal(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", note_refusal)
    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "快递末端网点备案服务" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 20  # the operations are listed
    assert refused == []
    page.close()
