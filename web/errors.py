"""Failures on pages are pages: a 404 page for a record the user may not see (SPEC §9), a 403
page for a refused form, a redirect to the login page. The API keeps answering problem+json.

An error page keeps the header of the user looking at it (its name, 退出登录 with a working
CSRF token) and, for a logged-in user, is never stored (`no-store`, as every logged-in page)."""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from domain.errors import DomainError, NotFound
from web.session import GoTo, LoginRequired, PageError, PageNotFound, render, visitor

NOT_API = ("/api/", "/openapi.json", "/.well-known/", "/static/", "/healthz", "/readyz")


def is_page(request: Request) -> bool:
    """A request a person's browser made for a page (not the API, not a file)."""
    return not request.url.path.startswith(NOT_API)


def page_for_error(
    templates: Jinja2Templates, request: Request, exc: Exception, status: int = 500
) -> Response:
    """The page for a failure; `status` is the API's status for a domain error."""
    if isinstance(exc, LoginRequired):
        return RedirectResponse(f"/login?next={_quote(exc.next_path)}", status_code=303)
    if isinstance(exc, GoTo):
        return RedirectResponse(exc.location, status_code=303)
    if isinstance(exc, NotFound):
        exc = PageNotFound()
    if isinstance(exc, PageError):
        status, title, message = exc.status_code, exc.title, exc.message
    elif isinstance(exc, DomainError):
        title, message = "无法完成操作", exc.message
    else:
        status, title, message = 500, "服务器内部错误", "服务器内部错误，请稍后重试。"
    return error_page(templates, request, status, title, message)


def error_page(
    templates: Jinja2Templates, request: Request, status: int, title: str, message: str
) -> HTMLResponse:
    return render(
        templates,
        request,
        "error.html",
        {"title": title, "message": message},
        user=visitor(request),
        status_code=status,
    )


def _quote(path: str) -> str:
    return quote(path, safe="/")
