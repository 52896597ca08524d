"""The user's own account (`/account`: e-mail, mobile, password) and the lost-password pages
(`/reset-password`), on the services and schemas of `PATCH /api/v1/auth/me` and
`POST /api/v1/auth/password-reset[/confirm]`, with the same throttles and the same order of
steps (Argon2 runs with no transaction open).
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.security import hash_password
from domain.errors import InvalidResetToken, RateLimited, ValidationFailed
from domain.vocabulary import Role
from models.user import User
from schemas.accounts import MeUpdate
from schemas.notifications import PasswordResetConfirm, PasswordResetRequest
from services.accounts import users as accounts
from services.notifications import password_reset
from web.account import Form
from web.deps import ClientAddress, SessionDep, reads_first, run_between_transactions
from web.register import field_messages, validated
from web.session import AnyUserPage, PageUser, check_csrf, log_out, render, secure_cookies
from web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)

CONTACT_FIELDS = ("email", "mobile")
PASSWORD_FIELDS = ("current_password", "password")
# The reset link carries its token in the URL: no page of the flow may leak it as a Referer,
# and none may be kept by a browser or proxy (the confirm form is the token's capability).
NO_REFERRER = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
# The link's token moves from the URL into this cookie (sent only to the reset pages, never
# by another site's request) and the browser goes on to a URL without it: the token stays
# out of access logs, the history and Referer headers.
RESET_COOKIE = "reset_token"
RESET_PATH = "/reset-password"
RESET_FORM = "/reset-password/new"
RESET_COOKIE_SECONDS = int(password_reset.TOKEN_LIFETIME.total_seconds())
RESET_SENT = (
    "如该用户存在且登记了电子邮箱或手机号码，重置密码的链接已发出，30 分钟内有效。"
    "请查看邮件或短信，打开其中的链接设置新密码。"
)
ACCOUNT_NOTICES = {"saved": "联系方式已保存。"}


# --- /account ----------------------------------------------------------------------------------


def _account_page(
    request: Request,
    user: User,
    *,
    contacts: dict[str, str] | None = None,
    contact_errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shown = contacts or {name: getattr(user, name) or "" for name in CONTACT_FIELDS}
    return render(
        templates,
        request,
        "account.html",
        {
            "account": user,
            "role_label": Role(user.role).label,
            "contacts": shown,
            "contact_errors": contact_errors or {},
            "password_errors": password_errors or {},
            "notice": notice,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: AnyUserPage, notice: str = "") -> Response:
    """Any logged-in user: the own account's contact details and the password change."""
    return _account_page(request, user, notice=ACCOUNT_NOTICES.get(notice))


@router.post("/account", response_class=HTMLResponse)
def account_contacts(
    request: Request, session: SessionDep, user: AnyUserPage, form: Form
) -> Response:
    """The own e-mail and mobile (an empty box clears one), as `PATCH /auth/me`."""
    check_csrf(request, form)
    contacts = {name: str(form.get(name, "")).strip()[:254] for name in CONTACT_FIELDS}
    try:
        body = validated(MeUpdate, {name: value or None for name, value in contacts.items()})
        accounts.update_self(session, user, contacts=body.model_dump(include=set(CONTACT_FIELDS)))
    except ValidationFailed as failed:
        errors = field_messages(failed.errors, CONTACT_FIELDS)
        return _account_page(
            request, user, contacts=contacts, contact_errors=errors, status_code=422
        )
    return RedirectResponse("/account?notice=saved", status_code=303)


@router.post("/account/password", response_class=HTMLResponse)
@reads_first
def account_password(
    request: Request, session: SessionDep, user: AnyUserPage, form: Form
) -> Response:
    """A new password, given the current one (failures count with failed logins of the
    username; 429 while it is locked). It ends every session of the account, this one too:
    the user logs in again with the new password."""
    check_csrf(request, form)
    current = str(form.get("current_password", ""))
    new_password = str(form.get("password", ""))

    def again(errors: dict[str, str], status_code: int) -> HTMLResponse:
        return _account_page(request, user, password_errors=errors, status_code=status_code)

    try:
        body = validated(MeUpdate, {"password": new_password, "current_password": current or None})
        chosen = body.password
        assert chosen is not None  # validated above: the schema refuses a null password
        result = accounts.change_password(
            session,
            user,
            current_password=body.current_password,
            new_password=chosen,
            outside_transaction=lambda work: run_between_transactions(session, work),
        )
    except ValidationFailed as failed:
        return again(field_messages(failed.errors, PASSWORD_FIELDS), 422)
    except RateLimited as limited:
        page = again({"": limited.message}, 429)
        page.headers["Retry-After"] = str(limited.retry_after_seconds)
        return page
    if isinstance(result, accounts.WrongCurrentPassword):
        # Returned, not raised: the failure count is committed with the request.
        return again(field_messages(result.errors, PASSWORD_FIELDS), 422)
    response = RedirectResponse("/login?notice=password_changed", status_code=303)
    log_out(response)
    return response


# --- /reset-password ---------------------------------------------------------------------------


def _reset_page(
    request: Request,
    user: User | None,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    page: dict[str, Any] = {"confirm": False, "username": "", "errors": {}, "notice": None}
    page.update(context)
    template = "reset_confirm.html" if page["confirm"] else "reset_request.html"
    response = render(templates, request, template, page, user=user, status_code=status_code)
    response.headers.update(NO_REFERRER)
    return response


def _forget_token(response: Response) -> None:
    response.delete_cookie(
        RESET_COOKIE, path=RESET_PATH, secure=secure_cookies(), httponly=True, samesite="strict"
    )


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(
    request: Request, user: PageUser, token: str = "", sent: str = ""
) -> Response:
    """Public. Without a token: ask for a reset link. With the link's `token`: the token goes
    into a short-lived cookie of the reset pages and the browser on to the new-password form."""
    if token:
        response = RedirectResponse(RESET_FORM, status_code=303)
        response.set_cookie(
            RESET_COOKIE,
            token[:200],
            max_age=RESET_COOKIE_SECONDS,
            httponly=True,
            secure=secure_cookies(),
            samesite="strict",
            path=RESET_PATH,
        )
        response.headers.update(NO_REFERRER)
        return response
    return _reset_page(request, user, {"notice": RESET_SENT if sent else None})


@router.get(RESET_FORM, response_class=HTMLResponse)
def reset_password_form(request: Request, user: PageUser) -> Response:
    """Public. The new password for the link just opened. Its token is not read here: a browser
    coming from a link in a web mail does not send the SameSite=Strict cookie on this redirect,
    but does with the form, which is posted from this page."""
    return _reset_page(request, user, {"confirm": True})


@router.post("/reset-password", response_class=HTMLResponse)
def reset_password_request(
    request: Request, session: SessionDep, address: ClientAddress, user: PageUser, form: Form
) -> Response:
    """Public. As `POST /auth/password-reset`: the same answer whether or not the user exists."""
    check_csrf(request, form)
    username = str(form.get("username", "")).strip()
    if not username:
        errors = {"username": "请填写用户名"}
        return _reset_page(request, user, {"errors": errors}, 422)
    body = PasswordResetRequest(username=username)
    password_reset.request_reset(session, username=body.username, client=address)
    response = RedirectResponse("/reset-password?sent=1", status_code=303)
    response.headers.update(NO_REFERRER)
    return response


@router.post("/reset-password/confirm", response_class=HTMLResponse)
@reads_first
def reset_password_confirm(
    request: Request, session: SessionDep, user: PageUser, form: Form
) -> Response:
    """Public. As `POST /auth/password-reset/confirm`: the new password (hashed with no
    transaction open) with the link's token (from the reset cookie), once; then log in with it.
    The cookie is deleted once the token is used or found invalid."""
    check_csrf(request, form)
    token = request.cookies.get(RESET_COOKIE, "")[:200]
    try:
        if not token:
            raise InvalidResetToken()
        body = validated(
            PasswordResetConfirm, {"token": token, "password": str(form.get("password", ""))}
        )
        password_hash = run_between_transactions(session, lambda: hash_password(body.password))
        password_reset.confirm_reset(session, token=body.token, password_hash=password_hash)
    except InvalidResetToken as invalid:
        page = _reset_page(request, user, {"confirm": True, "errors": {"": invalid.message}}, 422)
        _forget_token(page)
        return page
    except ValidationFailed as failed:
        errors = field_messages(failed.errors, ("password",))
        return _reset_page(request, user, {"confirm": True, "errors": errors}, 422)
    response = RedirectResponse("/login?notice=password_reset", status_code=303)
    response.headers.update(NO_REFERRER)
    _forget_token(response)
    return response
