"""One LLM caller per run: sends a prompt to the chat model with the prompt's own completion cap,
and accounts for calls, tokens and time."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from service.llm import as_briefing_error, with_token_cap
from service.prompts import Prompt
from service.settings import LLMSettings
from service.text import content_words

_ECHO_SHARE = 0.7
# A list marker a model puts before a line: "-", "*", "•", "1.", "2)", "POINT 3:", "KEY POINT:".
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|(?:POINT|KEY POINT)\s*\d*\s*:)\s*", re.IGNORECASE)


@dataclass
class CallStats:
    """Running totals of LLM usage for one run."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    busy_seconds: float = 0.0
    _in_flight: int = 0
    _busy_since: float = 0.0
    by_stage: dict[str, int] = field(default_factory=dict)

    def started(self) -> None:
        """Note a call going out."""
        if self._in_flight == 0:
            self._busy_since = time.perf_counter()
        self._in_flight += 1

    def finished(self) -> None:
        """Note a call coming back; busy time counts while any call is in flight."""
        self._in_flight -= 1
        if self._in_flight == 0:
            self.busy_seconds += time.perf_counter() - self._busy_since


@dataclass
class LLMCaller:
    """The chat model, bound to one run's backend settings, its bound on calls in flight and its
    usage totals (and, for one story of a batch, the batch's totals too)."""

    model: BaseChatModel
    llm: LLMSettings
    stats: CallStats = field(default_factory=CallStats)
    totals: CallStats | None = None
    limit: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        if self.limit is None:
            self.limit = asyncio.Semaphore(self.llm.concurrency)

    def for_story(self) -> LLMCaller:
        """A caller for one story of a batch: its own usage, counted into this caller's too, and
        the same bound on calls in flight, so stories briefed at once do not multiply it."""
        return replace(self, stats=CallStats(), totals=self.stats)

    async def ask(self, prompt: Prompt, values: dict[str, str]) -> str:
        """Render a prompt, call the model capped at the prompt's `max_tokens`, and return the
        reply without lines that echo the instructions."""
        system, user = prompt.render(**values)
        capped = with_token_cap(self.model, prompt.max_tokens, self.llm)
        counted = [s for s in (self.stats, self.totals) if s is not None]
        assert self.limit is not None
        async with self.limit:
            for stats in counted:
                stats.started()
            try:
                reply = await capped.ainvoke([SystemMessage(system), HumanMessage(user)])
            except Exception as err:  # noqa: BLE001 - every client failure maps onto the error tree
                raise as_briefing_error(err) from err
            finally:
                for stats in counted:
                    stats.finished()
        usage = getattr(reply, "usage_metadata", None) or {}
        for stats in counted:
            stats.calls += 1
            stats.by_stage[prompt.name] = stats.by_stage.get(prompt.name, 0) + 1
            stats.prompt_tokens += int(usage.get("input_tokens", 0))
            stats.completion_tokens += int(usage.get("output_tokens", 0))
        content = reply.content if isinstance(reply.content, str) else str(reply.content)
        return drop_echoed_instructions(content, prompt)


def strip_bullet(line: str) -> str:
    """A reply line without its list marker (every stage's parser reads lines through this)."""
    return _BULLET.sub("", line)


def drop_echoed_instructions(reply: str, prompt: Prompt) -> str:
    """Remove reply lines that repeat the prompt's own instructions (small models do)."""
    instruction = content_words(prompt.system + " " + re.sub(r"\{\w+\}", " ", prompt.user))
    kept = []
    for line in reply.splitlines():
        words = content_words(line)
        if words and len(words & instruction) / len(words) >= _ECHO_SHARE:
            continue
        kept.append(line)
    return "\n".join(kept)
