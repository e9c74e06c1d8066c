"""One error tree: every failure the service reports on purpose, each class classified once: the kind
a failed job records, the HTTP status the API answers, and whether trying again later may help. The
API, the tasks and the CLI read these; nothing else classifies an error."""

from __future__ import annotations

from typing import ClassVar

from service.models import ErrorKind


class BriefingError(Exception):
    """Base of every error the service raises on purpose: by default the input cannot be briefed."""

    kind: ClassVar[ErrorKind] = ErrorKind.CANNOT_BRIEF
    http_status: ClassVar[int] = 422
    retryable: ClassVar[bool] = False

    def public(self) -> str:
        """What a caller may read of it."""
        return str(self)


class InputError(BriefingError):
    """An input file or article cannot be used; names what is wrong."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason


class NothingToBriefError(BriefingError):
    """No article survived ingest and cleaning."""


class ConfigError(BriefingError):
    """A setting is invalid or a configured resource is missing."""


class PromptError(ConfigError):
    """A prompt file is missing or malformed."""


class BackendError(BriefingError):
    """The LLM backend's answer was unusable."""

    kind = ErrorKind.BAD_GATEWAY
    http_status = 502

    def public(self) -> str:
        # why: the backend's garbage is not the caller's fault, and its details are not theirs to read
        return "the LLM backend gave an unusable answer"


class BackendUnavailable(BackendError):
    """The LLM backend could not be reached or timed out; worth retrying later."""

    kind = ErrorKind.BACKEND_UNAVAILABLE
    http_status = 503
    retryable = True

    def public(self) -> str:
        return str(self)
