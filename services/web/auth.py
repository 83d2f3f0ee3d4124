"""Who is signed in, with which role and scope: OIDC-style bearer tokens (JWTs).

Tokens come from the force's identity provider (the `AUTH_*` settings name its issuer,
audience, key and algorithm) or, on the embedded stack, from the local issuer, which signs
in the synthetic staff of `config/users.yaml`. What each role may use is the access table's
(`services/web/access.py`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
import yaml
from fastapi import HTTPException, Request, status

from plumbing.settings import Settings

SESSION_COOKIE = "civil_orders_session"


class Role(StrEnum):
    DISTRICT_REFERRER = "district referrer"
    CASEWORKER = "caseworker"
    LEGAL_SERVICES = "legal services"
    MOSOVO_OFFICER = "MOSOVO officer"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    DATA_PROTECTION_OFFICER = "data protection officer"
    # not a person: a tool inside the cluster (a rebuild of the read models) reading events
    SERVICE_ACCOUNT = "service account"


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: Role
    district: str | None = None
    team: str | None = None

    @property
    def actor(self) -> str:
        """How events name this person: role, then username."""
        return f"{self.role.value.lower().replace(' ', '-')}:{self.username}"

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.username,
            "name": self.name,
            "role": self.role.value,
            "district": self.district,
            "team": self.team,
        }


# The claim that names a scoped role's own district or team (services/web/access.py)
SCOPE_CLAIMS = {Role.DISTRICT_REFERRER: "district", Role.MOSOVO_OFFICER: "team"}


class NotSignedIn(HTTPException):
    def __init__(self, why: str) -> None:
        super().__init__(
            status.HTTP_401_UNAUTHORIZED, f"not signed in: {why}", {"WWW-Authenticate": "Bearer"}
        )


class Forbidden(HTTPException):
    def __init__(self, why: str) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, why)


def load_users(path: Path) -> dict[str, User]:
    entries = yaml.safe_load(path.read_text())["users"]
    return {
        username: User(
            username=username,
            name=entry["name"],
            role=Role(entry["role"]),
            district=entry.get("district"),
            team=entry.get("team"),
        )
        for username, entry in entries.items()
    }


def issue_token(settings: Settings, user: User, now: datetime | None = None) -> str:
    """A token from the local issuer (the embedded stack and tests). Its times are the real
    clock's, not the services' (a drill's CLOCK_DATE): whoever checks a token checks it by
    the real time, as the force's identity provider issues them."""
    now = now or datetime.now(UTC)
    claims = {
        **user.claims(),
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + timedelta(minutes=settings.auth_token_minutes),
    }
    return jwt.encode(claims, settings.auth_key.get_secret_value(), settings.auth_algorithm)


def read_token(settings: Settings, token: str) -> User:
    try:
        claims = jwt.decode(
            token,
            settings.auth_key.get_secret_value(),
            algorithms=[settings.auth_algorithm],
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotSignedIn("the token has expired") from None
    except jwt.InvalidTokenError as error:
        raise NotSignedIn(f"the token is not valid ({error})") from None
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise NotSignedIn(f"the token's role {claims.get('role')!r} is not one of ours") from None
    scope = SCOPE_CLAIMS.get(role)
    if scope is not None and not claims.get(scope):
        # never read as no scope at all, which would be every district's or team's cases
        raise NotSignedIn(f"a {role.value}'s token must name their {scope}")
    return User(
        username=claims["sub"],
        name=claims.get("name") or claims["sub"],
        role=role,
        district=claims.get("district"),
        team=claims.get("team"),
    )


# the tools' own identity (`civil-orders projections rebuild`, `verify readmodels`)
TOOLS = User("civil-orders-tools", "civil-orders tools", Role.SERVICE_ACCOUNT)


def service_token(settings: Settings) -> str:
    """The tools' bearer token: the identity provider's, where `SERVICE_TOKEN` holds one for
    their service account; otherwise one the local issuer signs."""
    if settings.service_token is not None:
        return settings.service_token.get_secret_value()
    return issue_token(settings, TOOLS)


def current_user(request: Request) -> User:
    """The bearer token's user, or the signed-in browser session's."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise NotSignedIn("send an Authorization: Bearer token, or sign in")
    settings: Settings = request.app.state.settings
    return read_token(settings, token)
