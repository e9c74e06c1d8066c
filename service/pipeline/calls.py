"""One LLM caller per run: sends a prompt to the chat model with the prompt's own completion cap,
and accounts for calls, tokens and time."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

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
    """The chat model, bound to one run's backend settings and usage totals."""

    model: BaseChatModel
    llm: LLMSettings
    stats: CallStats = field(default_factory=CallStats)

    async def ask(self, prompt: Prompt, values: dict[str, str]) -> str:
        """Render a prompt, call the model capped at the prompt's `max_tokens`, and return the
        reply without lines that echo the instructions."""
        system, user = prompt.render(**values)
        capped = with_token_cap(self.model, prompt.max_tokens, self.llm)
        self.stats.started()
        try:
            reply = await capped.ainvoke([SystemMessage(system), HumanMessage(user)])
        except Exception as err:  # noqa: BLE001 - every client failure maps onto the error tree
            raise as_briefing_error(err) from err
        finally:
            self.stats.finished()
        self.stats.calls += 1
        self.stats.by_stage[prompt.name] = self.stats.by_stage.get(prompt.name, 0) + 1
        usage = getattr(reply, "usage_metadata", None) or {}
        self.stats.prompt_tokens += int(usage.get("input_tokens", 0))
        self.stats.completion_tokens += int(usage.get("output_tokens", 0))
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
