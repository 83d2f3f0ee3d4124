"""Signing in (as whom, and for what purpose) and out."""

from typing import Any
from urllib.parse import quote

from fastapi import Request, Response

from services.web.auth import SESSION_COOKIE, issue_token
from services.web.pages.common import PURPOSE_COOKIE, done, page_router, render
from services.web.pages.forms import text

PURPOSES = (
    "triaging referrals",
    "preparing an application for court",
    "presenting an application in court",
    "managing orders and alerts",
    "making a referral",
    "supervising casework and service levels",
    "auditing lawful processing",
    "other",
)

router = page_router(signed_in=False)


def safe_next(path: str | None) -> str:
    return path if path and path.startswith("/") and not path.startswith("//") else "/"


def sign_in_page(
    request: Request, status_code: int = 200, errors: dict[str, str] | None = None, **context: Any
) -> Response:
    if not request.app.state.settings.local_sign_in:
        why = "sign in with the force's identity provider"
        return render(request, None, "refusal.html", 404, title="Sign in", why=why, what="")
    staff = sorted(request.app.state.users.values(), key=lambda u: (u.role.value, u.name))
    return render(request, None, "sign_in.html", status_code, title="Sign in", staff=staff,
                  purposes=PURPOSES, errors=errors or {}, **context)  # fmt: skip


@router.get("/sign-in", summary="sign in")
async def sign_in_form(request: Request, next: str = "/", ended: bool = False) -> Response:
    return sign_in_page(request, next=safe_next(next), ended=ended, values={})


@router.post("/sign-in", summary="sign in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    user = request.app.state.users.get(text(form, "username"))
    choice, detail = text(form, "purpose"), text(form, "purpose_detail")
    purpose = f"{choice}: {detail}" if detail else choice
    errors = {}
    if user is None:
        errors["username"] = "Choose who you are signing in as."
    if choice not in PURPOSES or (choice == "other" and not detail):
        errors["purpose"] = "Choose the purpose of this session (and describe it if other)."
    elif len(purpose) > 200:
        errors["purpose_detail"] = "Describe the purpose in 200 characters or fewer."
    if errors or user is None:
        return sign_in_page(request, 422, errors, next=safe_next(text(form, "next")), values=form)
    settings = request.app.state.settings
    response = done(safe_next(text(form, "next")), f"Signed in as {user.name}.")
    cookie = {"max_age": settings.auth_token_minutes * 60, "httponly": True,
              "samesite": "strict", "secure": request.url.scheme == "https"}  # fmt: skip
    response.set_cookie(SESSION_COOKIE, issue_token(settings, user), **cookie)
    response.set_cookie(PURPOSE_COOKIE, quote(purpose), **cookie)
    return response


@router.api_route("/sign-out", methods=["GET", "POST"], summary="sign out")
async def sign_out(request: Request) -> Response:
    response = done("/sign-in", "You have signed out.")
    for name in (SESSION_COOKIE, PURPOSE_COOKIE):
        response.delete_cookie(name, httponly=True, samesite="strict")
    return response
