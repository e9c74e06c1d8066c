"""Evals: variants, the CI gate on the recorded example eval, reports and comparisons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.errors import ConfigError, PromptError
from service.evals.dataset import ROOT, Dataset, load_dataset
from service.evals.report import compare, gate_failures, read_jsonl, table, write_jsonl
from service.evals.report_page import write_html
from service.evals.runner import EvalRun, parse_variant, run_eval
from tests.conftest import make_settings

EXAMPLES = ROOT / "evals" / "datasets" / "examples"


@pytest.fixture(scope="module")
def examples_run() -> tuple[Dataset, EvalRun]:
    """The example eval with the default prompts, replayed from its recordings."""
    dataset = load_dataset(EXAMPLES)
    settings = make_settings()
    return dataset, run_eval(dataset, [parse_variant("")], settings)


def test_gate_holds_on_the_recorded_example_eval(examples_run: tuple[Dataset, EvalRun]) -> None:
    """The CI gate: a prompt or pipeline change that makes briefings worse fails here."""
    dataset, run = examples_run
    assert dataset.thresholds, "the dataset file must carry the gate's thresholds"
    assert [r.error for r in run.results] == [None] * len(dataset.cases)
    assert gate_failures(dataset, run) == []


def test_every_case_is_measured(examples_run: tuple[Dataset, EvalRun]) -> None:
    _, run = examples_run
    for result in run.results:
        assert result.briefing is not None
        assert 0.0 <= result.metrics["fidelity"] <= 1.0
        assert result.metrics["llm_calls"] > 0 and result.metrics["tokens"] > 0
    everything = next(r for r in run.results if r.case == "all-four")
    assert everything.metrics["disagreements_found"] == 1.0
    assert everything.metrics["stories_correct"] == 1.0
    assert all(f.startswith("must include /") for f in everything.failed)  # facts missed are coverage, not errors
    assert everything.metrics["coverage"] == 1 - len(everything.failed) / 16
    assert len(everything.failed) <= 4  # issue 13: at least 12 of the 16 facts across the two stories
    november, april = everything.briefing.sections  # type: ignore[union-attr]
    [range_dispute] = november.disagreements
    assert range_dispute.about == "ATACMS range" and not april.disagreements
    # the case dates its files: the April story's "last month", "last week" and "on Wednesday" are placed
    assert [e.date.when for e in april.timeline] == ["2024-03", "2024-04-15", "2024-04-24"]
    assert everything.metrics["placed_timeline"] == 1.0
    undated = [r for r in run.results if r.case != "all-four"]  # as `briefing brief` reads them: nothing to place
    assert undated and all("placed_timeline" not in r.metrics for r in undated)


def test_a_breached_threshold_fails_the_gate(examples_run: tuple[Dataset, EvalRun]) -> None:
    dataset, run = examples_run
    strict = Dataset.model_validate(dataset.model_dump() | {"thresholds": {"coverage": {"min": 1.01}}})
    assert [f.split(":")[1].split()[0] for f in gate_failures(strict, run)] == ["coverage"]


def test_reports_table_html_jsonl_and_compare(examples_run: tuple[Dataset, EvalRun], tmp_path: Path) -> None:
    dataset, run = examples_run
    rows = {line.split()[0]: line.split()[1:] for line in table(run).splitlines()}
    assert rows["metric"] == ["defaults"]
    assert len(rows["fidelity"]) == 1 and "*" not in rows["fidelity"][0]  # one variant: nothing to rank
    assert rows["cases"] == [str(len(run.results))]
    write_jsonl(run, tmp_path / "a.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert len(lines) == len(run.results) and lines[0]["fingerprint"]["dataset_hash"]
    again = read_jsonl(tmp_path / "a.jsonl")
    assert "coverage" in compare(run, again)
    failing = run.model_copy(deep=True)
    failing.results[0].failed = ["must include /<b>Crimea</b>/"]
    failing.results[0].metrics["coverage"] = 0.0
    write_html(failing, tmp_path / "r.html", dataset, earlier=run)
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!doctype html>") and "must include /&lt;b&gt;Crimea&lt;/b&gt;/" in page
    failed_before = sum(1 for r in run.results if r.failed)
    assert page.count('class="cell fail"') == failed_before + (not run.results[0].failed)
    assert f"failing ({failed_before + (not run.results[0].failed)})" in page and 'id="show-differing"' in page
    coverage = page.split('<th scope="row">coverage</th>', 1)[1].split("</tr>", 1)[0]
    drop = -run.results[0].metrics["coverage"] / len(run.results)
    assert "min 0.8" in coverage and "✗" in coverage and f"({round(drop, 4):+g})" in coverage
    briefing = run.results[0].briefing
    assert briefing is not None and all(_escaped(s.title) in page for s in briefing.story_briefings())


def test_variants_parse_and_name_their_recordings() -> None:
    defaults = make_settings().pipeline.prompts
    v = parse_variant("map=v2,reduce=v1,model=llama3.1:8b")
    assert v.key(defaults) == "map-v2_collapse-v1_reduce-v1_title-v1_model-llama3.1-8b"
    assert parse_variant("").key(defaults) == "map-v3_collapse-v1_reduce-v3_title-v1"  # the settings' versions
    with pytest.raises(PromptError, match="map=v9"):
        parse_variant("map=v9")
    with pytest.raises(ConfigError, match="unknown key 'temperature'"):
        parse_variant("temperature=1")


def test_replay_without_a_recording_is_an_error_not_a_network_call(tmp_path: Path) -> None:
    (tmp_path / "dataset.yaml").write_text(
        "name: t\ncases:\n  - id: one\n    articles: [examples/articles/002_67e75afd35c628c0.txt]\n"
    )
    run = run_eval(load_dataset(tmp_path), [parse_variant("")], make_settings())
    assert run.results[0].error is not None and "run with --record" in run.results[0].error


def _escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)
