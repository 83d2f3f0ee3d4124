"""The web app's service layer: recording each look at personal data, the log's policy, and
the outreach sessions held for districts."""

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from plumbing.configuration import set_configuration
from plumbing.eventstore import EventSourcedService
from schemas.trace import Trace
from services.web.domain import AccessLogPolicy, AccessRecorded, OutreachSession
from services.web.wire import WIRE


class WebService(EventSourcedService):
    name = "web"
    wire = WIRE

    def record_access(
        self,
        username: str,
        role: str,
        case: str,
        what: str,
        purpose: str,
        trace: Trace,
        exported: bool = False,
        change: bool = False,
    ) -> bool:
        """Record one consultation, unless the recorded policy says not to; a `change` (an
        erasure or alteration of a person's data) always, the policy being about looks. True
        if recorded."""
        if not (change or self.logging()):
            return False
        self.save(
            AccessRecorded(
                username=username,
                role=role,
                case=case,
                what=what,
                purpose=purpose,
                exported=exported,
                at=self.now(),
                trace=trace,
            )
        )
        return True

    def logging(self) -> bool:
        policy = self._policy()
        return policy is None or policy.logging

    def configure_access_log(self, logging: bool, reason: str, trace: Trace) -> None:
        now = self.now()
        policy = self._policy()
        if policy is None:
            policy = AccessLogPolicy.configure(logging, reason, now, trace)
        else:
            policy.change(logging, reason, now, trace)
        self.save(policy)

    def _policy(self) -> AccessLogPolicy | None:
        """The recorded policy, if anyone has ever set one (logging is on until then)."""
        try:
            policy: AccessLogPolicy = self.repository.get(AccessLogPolicy.create_id())
        except AggregateNotFoundError:
            return None
        return policy

    def publish_configuration(
        self, kind: str, document: dict[str, Any], reason: str, trace: Trace
    ) -> None:
        """Put a new version of the team directory or screening rules in force; the services
        that use it adopt it from the event."""
        self.save(set_configuration(self, kind, document, reason, trace))

    def get_access_log_policy(self) -> dict[str, Any]:
        return {"logging": self.logging()}

    def record_outreach_session(
        self, district: str, held_on: date, audience: str, notes: str, trace: Trace
    ) -> UUID:
        """Record a session held for a district's staff; the same one twice is recorded once."""
        session = OutreachSession.record(district, held_on, audience, notes, self.now(), trace)
        self.save_new(session)
        return session.id
