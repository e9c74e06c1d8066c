"""Load and validate the versioned prompt files under prompts/<stage>/<version>.yaml (shipped in
the wheel as the `prompts` package)."""

from __future__ import annotations

import hashlib
import string
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.errors import PromptError
from service.resources import PROMPTS_DIR

STAGES = ("map", "collapse", "reduce", "title")
# What each stage's reply is parsed as; a prompt file names its output, and loading checks it.
# map: facts listed from a chunk, or one passage of 1-3 source sentences rewritten as one sentence;
# reduce: a summary and cited points, or one summary sentence over facts that become the points.
Output = Literal[
    "fact_lines", "rewritten_sentence", "merged_fact_lines", "briefing_sections", "summary_sentence", "headline"
]
STAGE_OUTPUTS: dict[str, tuple[Output, ...]] = {
    "map": ("fact_lines", "rewritten_sentence"),
    "collapse": ("merged_fact_lines",),
    "reduce": ("briefing_sections", "summary_sentence"),
    "title": ("headline",),
}


def fence_safe(value: str) -> str:
    """Data for a fenced slot: angle brackets become look-alikes, so text can neither close its
    fence (`</article>`) nor open a tag the model might take for the prompt's own."""
    return value.replace("<", "‹").replace(">", "›")


class Prompt(BaseModel):
    """One prompt version: its templates, declared variables, the parser its reply goes to, and
    its completion cap (tokens)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    description: str
    variables: list[str]
    output: Output
    max_tokens: int = Field(ge=8)
    system: str
    user: str

    @model_validator(mode="after")
    def _variables_match_templates(self) -> Prompt:
        used = {f for t in (self.system, self.user) for _, f, _, _ in string.Formatter().parse(t) if f}
        if used != set(self.variables):
            raise ValueError(
                f"templates use {sorted(used)} but variables declare {sorted(self.variables)}"
            )
        return self

    @property
    def ref(self) -> str:
        """Return 'stage/version'."""
        return f"{self.name}/{self.version}"

    def render(self, **values: str) -> tuple[str, str]:
        """Return the system and user messages with the variables filled in."""
        missing = set(self.variables) - set(values)
        if missing:
            raise PromptError(f"prompt {self.ref}: missing values for {sorted(missing)}")
        fenced = {name: fence_safe(value) for name, value in values.items()}
        return self.system.format(**fenced), self.user.format(**fenced)

    def digest(self) -> str:
        """Return a short hash of the prompt's content."""
        blob = self.model_dump_json().encode()
        return hashlib.sha256(blob).hexdigest()[:12]


@lru_cache(maxsize=64)
def load_prompt(stage: str, version: str, root: Path = PROMPTS_DIR) -> Prompt:
    """Load prompts/<stage>/<version>.yaml and check it, or raise PromptError naming the file."""
    path = root / stage / f"{version}.yaml"
    if not path.is_file():
        available = ", ".join(available_versions(stage, root)) or "none"
        raise PromptError(f"unknown prompt version {stage}={version} (available: {available})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        prompt = Prompt.model_validate(data)
    except (yaml.YAMLError, ValidationError) as err:
        raise PromptError(f"{path}: {err}") from None
    if (prompt.name, prompt.version) != (stage, version):
        raise PromptError(f"{path}: declares {prompt.ref}, expected {stage}/{version}")
    if stage in STAGE_OUTPUTS and prompt.output not in STAGE_OUTPUTS[stage]:
        raise PromptError(f"{path}: output {prompt.output} cannot be parsed by stage {stage} "
                          f"({', '.join(STAGE_OUTPUTS[stage])})")
    return prompt


def available_versions(stage: str, root: Path = PROMPTS_DIR) -> list[str]:
    """List the versions present for a stage."""
    return sorted(p.stem for p in (root / stage).glob("*.yaml"))


def load_prompt_set(versions: dict[str, str]) -> dict[str, Prompt]:
    """Load one prompt per pipeline stage from a {stage: version} map."""
    unknown = set(versions) - set(STAGES)
    if unknown:
        raise PromptError(f"unknown prompt stage(s) {sorted(unknown)}; stages are {list(STAGES)}")
    return {stage: load_prompt(stage, versions.get(stage, "v1")) for stage in STAGES}
