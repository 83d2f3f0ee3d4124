"""The root of every domain rule violation: a well-formed request the domain refuses."""


class CommandRejected(Exception):
    """Raised by an aggregate or service when a command breaks a rule. The message says which."""


class NotFound(CommandRejected):
    """The command or query names something that does not exist."""
