"""A real browser for the page tests: Debian's Chromium driven by Playwright, axe-core for
accessibility, screenshots at a phone's and a desktop's width for people to look at."""

import json
import os
import shutil
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, ViewportSize

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "build" / "screenshots")
)
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)
SERIOUS = {"serious", "critical"}

_axe = Axe()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (axe is injected by
    the test, never served by the app)."""
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v.get("impact") in SERIOUS]


def check_page(page: Page, name: str) -> None:
    """No serious or critical accessibility violation; screenshots at 390 px and 1280 px."""
    found = serious_violations(page)
    assert not found, json.dumps(
        [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in found],
        ensure_ascii=False,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)
