"""The web interface: server-rendered pages over the same API."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
