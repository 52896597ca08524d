"""Who is looking at a page, and whether a form really came from our page (SPEC §9).

- The session cookie carries the same access token as the API (`Authorization: Bearer`), so a
  password change or deactivation ends both (token version). HttpOnly, SameSite=Lax, Secure when
  `PUBLIC_BASE_URL` is https.
  Logging out ends the session on the server too (`end_sessions`).
- CSRF: every form carries a hidden `csrf_token`, an HMAC (with `SECRET_KEY`) of a random value
  kept in its own HttpOnly cookie and of the session cookie: another site can make a browser
  send the cookies, but cannot read them, so it cannot compute the form field, and a token
  taken from one session is refused in another. Forms keep working without JavaScript.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from core.config import get_settings
from core.db import session_scope
from core.security import create_access_token
from domain.vocabulary import Role
from models.base import pk
from models.user import User
from services.accounts import enterprises
from services.accounts.users import user_for_token
from web.deps import SessionDep

logger = logging.getLogger(__name__)

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf_seed"
CSRF_FIELD = "csrf_token"


class PageError(Exception):
    """A page-level failure shown as a page (handlers in `web.install`)."""

    status_code = 400
    title = "请求有误"
    message = ""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class PageNotFound(PageError):
    status_code = 404
    title = "页面不存在"
    message = "您要找的页面不存在，或您无权查看。"


class CsrfRefused(PageError):
    status_code = 403
    title = "表单已失效"
    message = "表单已失效或不是从本站页面提交的，请返回上一页刷新后重新提交。"


class LoginRequired(PageError):
    """Answered with a redirect to the login page, coming back here afterwards."""

    status_code = 303
    title = "请先登录"

    def __init__(self, next_path: str) -> None:
        super().__init__()
        self.next_path = next_path


class GoTo(PageError):
    """Answered with a redirect (303) to `location`, a path of this site."""

    status_code = 303
    title = "请前往"

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location


class WrongRole(PageError):
    status_code = 403
    title = "无权访问"
    message = "当前账号无权使用此页面。"


def secure_cookies() -> bool:
    """Cookies are `Secure` when the service is served over https."""
    return get_settings().public_base_url.startswith("https://")


def _sign(seed: str, session_cookie: str) -> str:
    """The form token: bound to the browser (its seed) and to its session (the session cookie,
    "" when anonymous), so a token from one session is refused in another with the same seed."""
    key = get_settings().secret_key.encode()
    message = b"csrf:" + seed.encode() + b"|" + session_cookie.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_seed(request: Request) -> str:
    """This browser's CSRF seed: from its cookie, or a new one (set by `render`)."""
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or len(seed) > 64:
        seed = getattr(request.state, "new_csrf_seed", None) or secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    return seed


def csrf_token(request: Request) -> str:
    return _sign(csrf_seed(request), request.cookies.get(SESSION_COOKIE, ""))


def check_csrf(request: Request, form: Mapping[str, Any]) -> None:
    """403 page unless the form's token matches this browser's seed cookie and session."""
    seed = request.cookies.get(CSRF_COOKIE)
    sent = form.get(CSRF_FIELD)
    if not seed or not isinstance(sent, str):
        raise CsrfRefused()
    expected = _sign(seed, request.cookies.get(SESSION_COOKIE, ""))
    if not hmac.compare_digest(expected, sent):
        raise CsrfRefused()


def finish(request: Request, response: Response) -> Response:
    """Sets the CSRF seed cookie when this request made one."""
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=secure_cookies(), path="/"
        )
    return response


def log_in(response: Response, user: User) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        create_access_token(pk(user), user.token_version),
        max_age=get_settings().access_token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(),
        path="/",
    )
    # A new seed after login: a seed planted before it (session fixation) stops working.
    response.delete_cookie(CSRF_COOKIE, path="/")


def log_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def end_sessions(session: Session, user: User) -> None:
    """Logging out ends the session on the server: a copied session cookie stops working.

    The session cookie carries the API's access token, so this moves the user's token version
    on and thereby also ends the user's other sessions and API tokens (as a password change
    does). Acceptable for this service: an account is one person, and logging out means it."""
    user.token_version += 1
    session.add(user)
    session.flush()


@dataclass(frozen=True)
class Visitor:
    """What the page header shows of a logged-in user, kept apart from the database: an error
    page may be rendered after the request's transaction is gone."""

    role: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> "Visitor":
        return cls(role=user.role, display_name=user.display_name)


_VISITOR = "page_visitor"


def page_user(request: Request, session: SessionDep) -> User | None:
    """The logged-in user of this page, or None (remembered for an error page of the request)."""
    user = user_for_token(session, request.cookies.get(SESSION_COOKIE))
    setattr(request.state, _VISITOR, Visitor.of(user) if user is not None else None)
    return user


PageUser = Annotated[User | None, Depends(page_user)]


def visitor(request: Request) -> Visitor | None:
    """Who is looking, for an error page: what this request already found out, else the session
    cookie read in a short transaction of its own. Best effort: a failure is no user."""
    if hasattr(request.state, _VISITOR):
        found: Visitor | None = getattr(request.state, _VISITOR)
        return found
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with session_scope(for_write=False) as session:
            user = user_for_token(session, token)
            return Visitor.of(user) if user is not None else None
    except Exception:  # the error page must not fail because the database does
        logger.warning("error page: the session's user could not be read", exc_info=True)
        return None


def _next_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


class RequirePageRoles:
    """Lets the given roles through; anyone else goes to the login page (not logged in) or
    sees a 403 page. An operator whose enterprise is not approved goes to its registration."""

    def __init__(self, *roles: Role, unapproved: bool = False) -> None:
        self.roles = roles
        self.unapproved = unapproved

    def __call__(self, request: Request, session: SessionDep, user: PageUser) -> User:
        if user is None:
            raise LoginRequired(_next_path(request))
        if user.role not in self.roles:
            raise WrongRole()
        if not self.unapproved and not enterprises.is_approved(session, user):
            raise GoTo("/register/status")  # logged in: straight to its registration
        return user


OperatorPage = Annotated[User, Depends(RequirePageRoles(Role.OPERATOR))]
ApplicantPage = Annotated[User, Depends(RequirePageRoles(Role.OPERATOR, unapproved=True))]
AnyUserPage = Annotated[User, Depends(RequirePageRoles(*Role))]
InspectorPage = Annotated[User, Depends(RequirePageRoles(Role.INSPECTOR))]
AdminPage = Annotated[User, Depends(RequirePageRoles(Role.ADMIN))]
ReviewerPage = Annotated[User, Depends(RequirePageRoles(Role.REVIEWER, Role.ADMIN))]


def render(
    templates: Jinja2Templates,
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | Visitor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with what every page needs: the CSRF token for its forms and the user. A page
    for a logged-in user is never stored by a browser or proxy (`no-store`)."""
    page: dict[str, Any] = {"csrf_token": csrf_token(request), "user": user}
    page.update(context or {})
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    finish(request, response)
    response.headers.setdefault("Cache-Control", "no-store" if user else "no-cache")
    return response
