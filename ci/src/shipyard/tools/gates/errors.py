"""The gates' one exception type."""


class GateError(Exception):
    """A gate could not reach a trustworthy verdict (tool missing or crashing, bad policy,
    unreadable report, README without markers). Never a pass: callers treat it as blocking.
    The message names the thing at fault and how to fix it."""
