"""One error tree: every failure the service reports on purpose."""

from __future__ import annotations


class BriefingError(Exception):
    """Base of every error the service raises on purpose."""

    retryable: bool = False


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
    """The LLM backend failed to answer."""


class BackendUnavailable(BackendError):
    """The LLM backend could not be reached or timed out; worth retrying later."""

    retryable = True
