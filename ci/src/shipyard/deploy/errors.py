"""The deploy domain's one exception type."""


class DeployError(Exception):
    """A deploy, plan, verify or rollback cannot go on; the message names the thing and the fix."""
