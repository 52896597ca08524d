"""Log in and out (SPEC §9: `/login` with `用户名`, `密码`, `登录`; `退出登录` on every page).

The login runs the API's steps: read the user (no write lock), check the password with no
transaction open (Argon2 is slow), count a failure in a short write. The same throttle applies.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from domain.errors import NotAuthenticated, RateLimited
from domain.vocabulary import Role
from services.accounts import enterprises
from services.accounts import users as accounts
from web.deps import ClientAddress, SessionDep, reads_first, run_between_transactions
from web.session import PageUser, check_csrf, end_sessions, log_in, log_out, render
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)


async def form_data(request: Request) -> FormData:
    """The submitted form (urlencoded or multipart), read before the handler runs."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def safe_next(value: object, default: str = "/") -> str:
    """Only a path on this site: never `//elsewhere` or `https://elsewhere`."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return default


# Where staff land after logging in when no page was asked for (`next`).
STAFF_LANDING: dict[str, str] = {
    Role.REVIEWER: "/review",
    Role.INSPECTOR: "/inspector/tasks",
    Role.ADMIN: "/admin",
}


# What the login page says when another page sends the user here (`?notice=`).
LOGIN_NOTICES = {
    "password_changed": "密码已修改，请用新密码重新登录。",
    "password_reset": "新密码已设置，请用新密码登录。",
}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: PageUser, next: str = "/", notice: str = "") -> Response:
    """Public."""
    return render(
        templates,
        request,
        "login.html",
        {
            "next": safe_next(next),
            "username": "",
            "error": None,
            "notice": LOGIN_NOTICES.get(notice),
        },
        user=user,
    )


@router.post("/login", response_class=HTMLResponse)
@reads_first
def login_submit(
    request: Request, session: SessionDep, address: ClientAddress, form: Form
) -> Response:
    """Public. On success the session cookie is set and the user goes where it was going (an
    operator to its filings, the owner of a registration not yet approved to its status)."""
    check_csrf(request, form)
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:128]
    target = safe_next(form.get("next"))

    def again(error: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
        page = render(
            templates,
            request,
            "login.html",
            {"next": target, "username": username, "error": error, "notice": None},
            status_code=status_code,
        )
        page.headers.update(headers or {})
        return page

    try:
        attempt = accounts.start_login(session, username=username, address=address)
        matched = run_between_transactions(
            session, lambda: accounts.password_matches(attempt, password)
        )
        user = accounts.finish_login(session, attempt, matched=matched)
    except RateLimited as limited:
        return again(limited.message, 429, {"Retry-After": str(limited.retry_after_seconds)})
    except NotAuthenticated as refused:
        return again(refused.message, 401)
    if user is None:
        return again(accounts.LoginFailed.message, 401)
    if user.role == Role.OPERATOR:
        if not enterprises.is_approved(session, user):
            target = "/register/status"
        elif target == "/":
            target = "/my/filings"
    elif target == "/":
        target = STAFF_LANDING.get(user.role, target)
    response = RedirectResponse(target, status_code=303)
    log_in(response, user)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: PageUser, form: Form) -> Response:
    """Any logged-in user (and harmless for anyone else). Ends the session on the server too
    (`end_sessions`: the user's other sessions and API tokens with it), so a copied session
    cookie is refused afterwards."""
    check_csrf(request, form)
    if user is not None:
        end_sessions(session, user)
    response = RedirectResponse("/", status_code=303)
    log_out(response)
    return response
