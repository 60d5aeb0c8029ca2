"""The one exception family a user can cause.

Anything raised as a `TenkuError` is a user-facing problem (bad input, missing file, wrong size): the CLI prints its
message on one line and exits non-zero, the server turns it into a 4xx JSON envelope. Anything else is a bug and
keeps its traceback.
"""


class TenkuError(ValueError):
    """A problem with what the user asked for, stated so that they can fix it."""


class VideoError(TenkuError):
    """A file that is not a readable video or image, or frames that cannot be written."""


class PromptError(TenkuError):
    """A prompt that cannot be used (empty, or naming things the world does not have)."""


class CheckpointError(TenkuError):
    """A missing, corrupt or incompatible checkpoint."""
