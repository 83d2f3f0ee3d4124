"""The web interface: server-rendered pages over the same API.

Each page is in the access table (`access`) beside the API routes it stands on, admitting
their roles, and calls those routes' own functions, so the scope rules (a referrer's
district, a MOSOVO officer's team) and the access log are the API's. Commands are forms
that POST and redirect back with a status message; a service's refusal is shown next to
its form.
"""

from services.web.pages import (
    admin,
    applications,
    home,
    order_applications,
    orders,
    outreach,
    records,
    referrals,
    reviews,
    signin,
)
from services.web.pages.common import page_router

router = page_router(signed_in=False)
for area in (signin, home, referrals, applications, order_applications, orders, outreach,
             records, reviews, admin):
    router.include_router(area.router)
