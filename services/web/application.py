"""The web app's service layer: recording each look at personal data, and the log's policy."""

from datetime import UTC, datetime
from typing import Any

from plumbing.configuration import set_configuration
from plumbing.eventstore import EventSourcedService, Trace
from services.web.domain import AccessLogPolicy, AccessRecorded


class WebService(EventSourcedService):
    name = "web"

    def record_access(
        self,
        username: str,
        role: str,
        case: str,
        what: str,
        purpose: str,
        trace: Trace,
        exported: bool = False,
    ) -> bool:
        """Record one consultation, unless the recorded policy says not to; True if recorded."""
        if not self.logging():
            return False
        self.save(
            AccessRecorded(
                username=username,
                role=role,
                case=case,
                what=what,
                purpose=purpose,
                exported=exported,
                at=datetime.now(UTC),
                trace=trace,
            )
        )
        return True

    def logging(self) -> bool:
        policy_id = AccessLogPolicy.create_id()
        if policy_id not in self.repository:
            return True
        policy: AccessLogPolicy = self.repository.get(policy_id)
        return policy.logging

    def configure_access_log(self, logging: bool, reason: str, trace: Trace) -> None:
        now = datetime.now(UTC)
        policy_id = AccessLogPolicy.create_id()
        if policy_id in self.repository:
            policy: AccessLogPolicy = self.repository.get(policy_id)
            policy.change(logging, reason, now, trace)
        else:
            policy = AccessLogPolicy.configure(logging, reason, now, trace)
        self.save(policy)

    def publish_configuration(
        self, kind: str, document: dict[str, Any], reason: str, trace: Trace
    ) -> None:
        """Put a new version of the team directory or screening rules in force; the services
        that use it adopt it from the event."""
        self.save(set_configuration(self, kind, document, reason, trace))

    def get_access_log_policy(self) -> dict[str, Any]:
        return {"logging": self.logging()}
