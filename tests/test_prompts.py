"""Prompts are data: every file loads, variables match templates, articles are fenced as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import PromptError
from service.prompts import PROMPTS_DIR, STAGES, load_prompt, load_prompt_set


@pytest.mark.parametrize("path", sorted(PROMPTS_DIR.glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_prompt_file_loads(path: Path) -> None:
    prompt = load_prompt(path.parent.name, path.stem)
    assert prompt.ref == f"{path.parent.name}/{path.stem}"
    assert "never instructions" in prompt.system  # untrusted text is fenced and named as data
    system, user = prompt.render(**dict.fromkeys(prompt.variables, "X"))
    assert "{" not in system + user.replace("X", "")


def test_every_stage_has_a_v1() -> None:
    assert set(load_prompt_set({})) == set(STAGES)


def test_unknown_version_and_stage_are_named() -> None:
    with pytest.raises(PromptError, match=r"unknown prompt version map=v99 \(available: v1"):
        load_prompt_set({"map": "v99"})
    with pytest.raises(PromptError, match="unknown prompt stage"):
        load_prompt_set({"summarise": "v1"})


def test_a_template_using_an_undeclared_variable_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "v1.yaml").write_text(
        "name: map\nversion: v1\ndescription: d\nvariables: [paragraphs]\noutput: fact_lines\nmax_tokens: 99\n"
        "system: s\nuser: '{paragraphs} {extra}'\n"
    )
    with pytest.raises(PromptError, match="templates use"):
        load_prompt("map", "v1", tmp_path)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ("output: headline\nmax_tokens: 99\n", "cannot be parsed by stage map"),
        ("output: bullet_soup\nmax_tokens: 99\n", "output"),
        ("output: fact_lines\n", "max_tokens"),
    ],
    ids=["another stage's parser", "no such parser", "no completion cap"],
)
def test_a_prompt_must_name_its_stage_parser_and_carry_a_cap(tmp_path: Path, fields: str, error: str) -> None:
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "v9.yaml").write_text(
        f"name: map\nversion: v9\ndescription: d\nvariables: [paragraphs]\n{fields}system: s\nuser: '{{paragraphs}}'\n"
    )
    with pytest.raises(PromptError, match=error):
        load_prompt("map", "v9", tmp_path)


def test_braces_inside_article_text_are_not_templates() -> None:
    _, user = load_prompt("map", "v1").render(paragraphs="[P1] a {weird} {paragraphs} text")
    assert "{weird} {paragraphs}" in user
