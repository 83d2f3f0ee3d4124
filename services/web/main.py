"""The web app process: the HTTP API and the web interface people use, and the access log.

Every route, its event feed and health checks too, is checked against the access table
(`access.admit`) before it runs."""

from typing import Any

from fastapi import APIRouter

from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from services.web import api, api_outreach, api_records, pages, subject_access
from services.web.access import admit
from services.web.access_log import ACCESS_LOG
from services.web.application import WebService
from services.web.auth import load_users
from services.web.backend import Backend

router = APIRouter()
router.include_router(api.router)
router.include_router(api_records.router)
router.include_router(api_outreach.router)
router.include_router(subject_access.router)
router.include_router(pages.router)


def state(settings: Settings) -> dict[str, Any]:
    return {
        "backend": Backend(settings.service_urls),
        "users": load_users(settings.staff_directory),
    }


definition = ServiceDefinition(
    name="web",
    application=WebService,
    router=router,
    local_projections=lambda service: [ACCESS_LOG],
    state=state,
    guard=admit,
)
