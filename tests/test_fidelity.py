"""The fidelity checker: each signal on hand-made pairs, the CLI, and a calibration floor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from service.cli import main
from service.embeddings import get_embedder
from service.fidelity.calibrate import calibrate, load_examples, signal_matrix
from service.fidelity.checker import FidelityChecker
from service.fidelity.model import balanced_accuracy, roc_auc

SOURCE = (
    "The city council of Springfield approved a budget of 40 million dollars on Monday, the mayor said. "
    "The budget funds two new schools and the repair of the harbour bridge. "
    "Council members rejected a proposal to raise parking fees. "
    "“We kept our promise to families,” Mayor Ann Lee told reporters."
)


@pytest.fixture(scope="module")
def checker() -> FidelityChecker:
    return FidelityChecker(embedder=get_embedder())


def _one(checker: FidelityChecker, summary: str, source: str = SOURCE) -> tuple[bool, dict[str, float], float]:
    sentence = checker.score([source], summary).sentences[0]
    return sentence.supported, sentence.signals, sentence.score


def test_a_faithful_paraphrase_is_supported(checker: FidelityChecker) -> None:
    supported, signals, _ = _one(checker, "Springfield's council passed a 40 million dollar budget on Monday.")
    assert supported and signals["numbers_missing_evidence"] == 0 and signals["names_missing_evidence"] == 0


def test_a_swapped_number_is_caught(checker: FidelityChecker) -> None:
    true_score = _one(checker, "Springfield approved a budget of 40 million dollars on Monday.")[2]
    supported, signals, score = _one(checker, "Springfield approved a budget of 45 million dollars on Monday.")
    assert signals["numbers_missing_evidence"] == 1 and score < true_score and not supported


def test_a_swapped_name_is_caught(checker: FidelityChecker) -> None:
    supported, signals, _ = _one(checker, "Shelbyville approved a budget of 40 million dollars on Monday.")
    assert signals["names_missing_evidence"] == 1 and not supported


def test_a_negation_is_caught(checker: FidelityChecker) -> None:
    """The signal fires and lowers the score; alone it does not flip the verdict (see README)."""
    true = _one(checker, "Council members rejected a proposal to raise parking fees.")
    negated = _one(checker, "Council members did not reject a proposal to raise parking fees.")
    assert true[1]["negation_mismatch"] == 0 and negated[1]["negation_mismatch"] == 1
    assert negated[2] < true[2]


def test_an_antonym_is_caught(checker: FidelityChecker) -> None:
    true_score = _one(checker, "Council members rejected a proposal to raise parking fees.")[2]
    supported, signals, score = _one(checker, "Council members accepted a proposal to raise parking fees.")
    assert signals["antonym_conflict"] == 1 and score < true_score and not supported


def test_a_quote_must_be_verbatim(checker: FidelityChecker) -> None:
    assert _one(checker, "Mayor Ann Lee said: “We kept our promise to families.”")[0]
    assert not _one(checker, "Mayor Ann Lee said: “We kept every promise to our families.”")[0]


def test_a_spun_source_still_supports_a_true_sentence(checker: FidelityChecker) -> None:
    spun = (Path(__file__).resolve().parent.parent / "examples" / "articles" / "003_dad3e476f5be5b2e.txt").read_text()
    claim = "Moscow said on Tuesday that six ATACMS had been fired at its Bryansk region."
    assert _one(checker, claim, spun)[0]


def test_summary_verdict_is_its_weakest_sentence(checker: FidelityChecker) -> None:
    result = checker.score(
        [SOURCE], "Springfield approved a 40 million dollar budget. Shelbyville built a new stadium."
    )
    assert [s.supported for s in result.sentences] == [True, False]
    assert not result.supported and result.score <= min(s.score for s in result.sentences)
    assert result.sentences[0].evidence is not None and "approved a budget" in result.sentences[0].evidence.text


def test_score_cli_streams_results_and_names_malformed_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "pairs.jsonl"
    src.write_text(
        json.dumps({"id": "good", "sources": [SOURCE], "summary": "The council approved a budget.", "x": 1}) + "\n"
        + "{broken\n"
        + json.dumps({"id": "nosum", "sources": [SOURCE]}) + "\n"
        + json.dumps({"id": "bad", "sources": [SOURCE], "summary": "Shelbyville approved 45 million dollars."}) + "\n"
    )
    out = tmp_path / "scores.jsonl"
    assert main(["fidelity", "score", str(src), "-o", str(out)]) == 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["supported"]) for r in lines] == [("good", True), ("bad", False)]
    assert set(lines[0]) == {"id", "score", "supported", "sentences"}
    assert 0.0 <= lines[1]["score"] <= 1.0
    err = capsys.readouterr().err
    assert f"{src}:2: invalid JSON" in err and f"{src}:3: 'summary' must be a non-empty string" in err
    assert "scored 2 in" in err and "pairs/s" in err


def test_calibration_on_a_fixed_sample_stays_above_a_floor() -> None:
    """A regression guard: 60 examples of each part, fitted and scored as `calibrate` does."""
    examples = [e for part in ("summedits/test", "qags/a", "summedits/evaluation", "qags/b")
                for e in [x for x in load_examples() if x.part == part][:60]]
    signals = signal_matrix(examples, get_embedder())
    result = calibrate(examples, signals)
    held = {m.part: m for m in result.held_out}["all held-out"]
    assert held.n == 120
    assert held.balanced_accuracy >= 0.58 and held.roc_auc >= 0.6, held
    labels = np.array([e.consistent for e in examples])
    shipped = FidelityChecker(embedder=get_embedder()).model.probability(signals)
    assert roc_auc(shipped, labels) >= 0.6
    assert balanced_accuracy(shipped >= 0.5, labels) > 0.5
