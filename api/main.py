"""The application factory; `api.main:app` is the ASGI app."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from api import problems
from api.deps import RequireRoles
from api.limits import BodySizeLimitMiddleware
from api.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from api.routes import (
    audit,
    auth,
    calendar,
    enterprise_users,
    enterprises,
    filings,
    health,
    inspections,
    notifications,
    public,
    receipts,
    reference,
    stats,
    users,
)
from core import logs
from core.config import get_settings
from web import account as account_pages
from web import account_pages as self_service_pages
from web import admin_directories as admin_directory_pages
from web import admin_people as admin_people_pages
from web import admin_plans as admin_plan_pages
from web import admin_stats as admin_stats_pages
from web import inspector as inspector_pages
from web import my_inspections as inspection_notice_pages
from web import operator as operator_pages
from web import pages as web
from web import public as public_pages
from web import register as register_pages
from web import review as review_pages

API_PREFIX = "/api/v1"

DESCRIPTION = """
快递末端网点备案服务 — courier terminal-outlet filing for Hezhou (贺州市).

Errors are `application/problem+json` with a stable `code` and a Chinese `detail`.
Each operation states the roles that may call it; **Public** ones need no login.
"""


def _roles_of(route: APIRoute) -> tuple[str, ...] | None:
    """The roles a route's dependencies admit, or None when no login is required."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, RequireRoles) and dependant.call.roles:
            return dependant.call.roles
        pending.extend(dependant.dependencies)
    return None


def _document_roles(router: APIRouter) -> None:
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        roles = _roles_of(route)
        line = f"**Roles:** {', '.join(roles)}" if roles else "**Public:** no login required"
        route.description = f"{line}\n\n{route.description or ''}".strip()
        route.openapi_extra = {**(route.openapi_extra or {}), "x-roles": list(roles or ["public"])}


def _with_problems_documented(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`, with every operation's problem responses (api.problems.document)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.document(generate())
        return app.openapi_schema

    return openapi


def create_app() -> FastAPI:
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    # /docs is our own page over locally served Swagger UI assets (no CDN); DOCS_ENABLED=false
    # turns off both it and /openapi.json.
    app = FastAPI(
        title="快递末端网点备案服务",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_json_bytes=settings.max_json_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    problems.install(app)
    app.mount("/static", web.static_files, name="static")
    # Routes are matched in order, router by router: the public hot paths come first.
    routers = [
        (public.router, API_PREFIX),
        (web.router, ""),
        (account_pages.router, ""),
        (self_service_pages.router, ""),
        (operator_pages.router, ""),
        (admin_plan_pages.router, ""),
        (admin_stats_pages.router, ""),
        (review_pages.router, ""),
        (inspection_notice_pages.router, ""),
        (inspector_pages.router, ""),
        (admin_people_pages.router, ""),
        (admin_directory_pages.router, ""),
        (register_pages.router, ""),
        (public_pages.router, ""),
        (health.router, ""),
        *((module.router, API_PREFIX) for module in (auth, users, reference, enterprises)),
        *((module.router, API_PREFIX) for module in (enterprise_users, calendar)),
        *((module.router, API_PREFIX) for module in (filings, receipts, inspections, stats, audit)),
        (notifications.router, API_PREFIX),
    ]
    if settings.docs_enabled:
        routers.append((web.docs_router, ""))
    for router, prefix in routers:
        _document_roles(router)
        app.include_router(router, prefix=prefix)
    app.openapi = _with_problems_documented(app)  # type: ignore[method-assign]  # FastAPI's hook
    return app


app = create_app()
