"""The pages' Jinja2 environment (autoescaping on: no value reaches a page unescaped)."""

from pathlib import Path

from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")
static_files = StaticFiles(directory=WEB_DIR / "static")
