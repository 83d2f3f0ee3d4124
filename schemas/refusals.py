"""The words every domain refuses a command in: a well-formed request that breaks a rule.

The HTTP edge answers a refusal with 409 (404 when the thing is not there); a consumer
dead-letters the event that asked for it."""


class CommandRejected(Exception):
    """Raised by an aggregate or service when a command breaks a rule. The message says which."""


class NotFound(CommandRejected):
    """The command or query names something that does not exist."""
