"""Settings: the fingerprint of what shapes a briefing, and overrides applied one way everywhere."""

from __future__ import annotations

import os

import pytest

from service.settings import Settings


def _from_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    with monkeypatch.context() as env:
        for name in [n for n in os.environ if n.startswith("BRIEFING_")]:
            env.delenv(name)
        for name, value in variables.items():
            env.setenv(name, value)
        return Settings()


def test_the_fingerprint_follows_values_not_how_they_were_spelled(monkeypatch: pytest.MonkeyPatch) -> None:
    flat = _from_env(monkeypatch, BRIEFING_LLM_BASE_URL="http://a:1/v1", BRIEFING_LLM_MODEL="m")
    nested = _from_env(monkeypatch, BRIEFING_LLM__BASE_URL="http://b:2/v1", BRIEFING_LLM__MODEL="m")
    assert flat.fingerprint() == nested.fingerprint()


def test_serving_settings_leave_the_fingerprint_and_shaping_settings_change_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = _from_env(monkeypatch).fingerprint()
    serving = {"BRIEFING_LLM__MAX_RETRIES": "5", "BRIEFING_LLM__TIMEOUT_S": "9", "BRIEFING_API_KEYS": "k",
               "BRIEFING_DATABASE_URL": "sqlite:///x.db", "BRIEFING_LLM__CONCURRENCY": "4"}
    assert _from_env(monkeypatch, **serving).fingerprint() == base
    for name, value in {"BRIEFING_GROUP__STORY_THRESHOLD": "0.9", "BRIEFING_LLM__MODEL": "other",
                        "BRIEFING_PIPELINE__FACTS_TOKEN_BUDGET": "999", "BRIEFING_VERIFY__MAX_KEY_POINTS": "3"}.items():
        assert _from_env(monkeypatch, **{name: value}).fingerprint() != base, name


def test_overrides_replace_prompt_versions_and_model_on_a_copy() -> None:
    settings = Settings()
    local = settings.with_overrides(prompts={"map": "v2"}, model="other")
    assert local.pipeline.prompts["map"] == "v2" and local.pipeline.prompts["reduce"] == "v3"
    assert local.llm.model == "other" and settings.pipeline.prompts["map"] == "v3"
    assert local.fingerprint() != settings.fingerprint()
