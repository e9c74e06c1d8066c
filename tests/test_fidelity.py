"""The fidelity checker: the trained judge on hand-made contrast pairs, its ONNX export, its
files' integrity, the CLI, and a calibration floor on held-out human labels."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from service.cli import main
from service.errors import ConfigError
from service.fidelity.checker import FidelityChecker
from service.fidelity.distortion_set import CASES_FILE, UNSEEN_FILE, evaluate, load_cases
from service.fidelity.judge import get_judge
from service.fidelity.rules import flipped, problems
from service.onnx_models import JUDGE, ONNX_DIR, REFERENCE, OnnxModel, read_manifest
from training.judge.calibrate import balanced_accuracy, judge_examples, load_examples, roc_auc

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (
    "The city council of Springfield approved a budget of 40 million dollars on Monday, the mayor said. "
    "The budget funds two new schools and the repair of the harbour bridge. "
    "Council members rejected a proposal to raise parking fees. "
    "“We kept our promise to families,” Mayor Ann Lee told reporters."
)
# One controlled edit each: the checker must pass every true claim and catch every false one.
# why xfail: a measured miss of the shipped judge that no hard rule covers (docs/verification.md); strict, so a
# better judge turns it red until removed.
_MISSED = pytest.mark.xfail(strict=True, reason="the shipped judge misses added details (issue 11)")
TRUE_CLAIMS = {
    "verbatim": "Council members rejected a proposal to raise parking fees.",
    "compressed": "The city council of Springfield approved a budget of 40 million dollars, the mayor said.",
    "fused": "Springfield approved a 40 million dollar budget, which funds two new schools.",
}
FALSE_CLAIMS = {
    "negation": "Council members did not reject a proposal to raise parking fees.",
    "antonym": "Council members accepted a proposal to raise parking fees.",
    "number": "The city council of Springfield approved a budget of 45 million dollars on Monday.",
    "date": "The city council of Springfield approved a budget of 40 million dollars on Friday.",
    "entity": "The city council of Shelbyville approved a budget of 40 million dollars on Monday.",
    "added detail": pytest.param(
        "Council members rejected a proposal to raise parking fees after a two-hour debate.", marks=_MISSED
    ),
}


@pytest.fixture(scope="module")
def checker() -> FidelityChecker:
    return FidelityChecker()


def _score(checker: FidelityChecker, claim: str, source: str = SOURCE) -> tuple[bool, float]:
    sentence = checker.score([source], claim).sentences[0]
    return sentence.supported, sentence.score


@pytest.mark.parametrize("kind", TRUE_CLAIMS)
def test_true_claims_are_supported(checker: FidelityChecker, kind: str) -> None:
    supported, score = _score(checker, TRUE_CLAIMS[kind])
    assert supported, (kind, score)


@pytest.mark.parametrize("claim", FALSE_CLAIMS.values(), ids=FALSE_CLAIMS.keys())
def test_one_controlled_edit_is_caught(checker: FidelityChecker, claim: str) -> None:
    supported, score = _score(checker, claim)
    assert not supported, (claim, score)


def test_who_did_what_swapped_is_caught(checker: FidelityChecker) -> None:
    source = "Germany beat France 2-1 in Paris on Saturday, with goals from Musiala and Wirtz."
    assert _score(checker, "Germany beat France 2-1 in Paris on Saturday.", source)[0]
    swapped = checker.score([source], "France beat Germany 2-1 in Paris on Saturday.").sentences[0]
    assert not swapped.supported and [p.rule for p in swapped.problems] == ["flip"]


PASSAGE = [
    "Russian forces launched 30 missiles at Kyiv on Monday, Ukrainian officials said.",
    "President Joe Biden did not comment on the strike.",
    "Kyiv's mayor Vitali Klitschko said two people were injured.",
]
FLIPS = {
    "who did what": "Ukrainian forces launched 30 missiles at Kyiv on Monday, Russian officials said.",
    "negation added": "Russian forces did not launch 30 missiles at Kyiv on Monday, Ukrainian officials said.",
    "negation removed": "President Joe Biden commented on the strike.",
    "opposite": "Kyiv's mayor Vitali Klitschko said two people were killed.",
    "number from the story": "Russian forces launched 2 missiles at Kyiv on Monday, Ukrainian officials said.",
    "name from the story": "Kyiv's mayor Joe Biden said two people were injured.",
}
KEEPS = {
    "compressed": "Russian forces launched 30 missiles at Kyiv, Ukrainian officials said.",
    "reworded": "Russian forces fired 30 missiles at Kyiv on Monday, according to Ukrainian officials.",
    "passive": "Kyiv was hit by 30 missiles launched by Russian forces on Monday.",
    "title for first name": "President Biden did not comment on the strike.",
    "name kept, title dropped": "Vitali Klitschko said two people were injured.",
}


@pytest.mark.parametrize("claim", FLIPS.values(), ids=FLIPS.keys())
def test_a_flipped_copy_of_a_source_sentence_breaks_the_flip_rule(claim: str) -> None:
    assert flipped(claim, PASSAGE), claim


@pytest.mark.parametrize("claim", KEEPS.values(), ids=KEEPS.keys())
def test_faithful_rewordings_break_no_hard_rule(claim: str) -> None:
    assert problems(claim, PASSAGE, " ".join(PASSAGE)) == [], claim


@pytest.mark.parametrize("cases", [CASES_FILE, UNSEEN_FILE], ids=["built on", "written after"])
def test_the_rules_catch_shortening_distortions_and_keep_faithful_shortenings(cases: Path) -> None:
    """Each kind on the project's own set: a rule refusing everything fails as one catching nothing."""
    for result in evaluate(load_cases(cases)).rules:
        assert result.caught >= 0.9 and result.kept >= 0.9, result


def test_each_distortion_is_named_with_what_the_source_says() -> None:
    source = ["Kyiv's mayor Vitali Klitschko said two people were injured at the fuel depot."]
    kinds = {
        "He said two people were injured at the fuel depot.": ("pronoun", "Kyiv's mayor Vitali Klitschko"),
        "Kyiv's mayor Vitali Klitschko said two people were injured at the fuel.": ("head_dropped", "fuel depot"),
        "Two people were injured at the fuel depot.": ("attribution", "said"),
    }
    for claim, (kind, quoted) in kinds.items():
        [found] = problems(claim, source, source[0])
        assert found.rule == kind and quoted in found.detail, (claim, found)


def test_a_pronoun_the_summary_resolved_before_is_no_distortion(checker: FidelityChecker) -> None:
    source = "Kyiv's mayor Vitali Klitschko said two people were injured. The fire was put out by noon."
    alone = checker.score([source], "He said two people were injured.").sentences[0]
    assert [p.rule for p in alone.problems] == ["pronoun"] and not alone.supported
    summary = checker.score([source], "Vitali Klitschko spoke on Monday. He said two people were injured.")
    assert summary.sentences[1].problems == []


def test_a_rewritten_claim_is_left_to_the_judge() -> None:
    """The distortion rules read a claim that copies a source sentence; a rewrite is the judge's."""
    source = ["Police said the suspect's brother had driven the getaway car and was arrested at the border."]
    assert problems("His brother, who drove away, was later caught by officers.", source, source[0]) == []


@pytest.mark.xfail(strict=True, reason="scores of the shipped judge bunch near the threshold (issue 11)")
def test_scores_mean_something_on_a_real_article(checker: FidelityChecker) -> None:
    """A verbatim source sentence scores high and its one-word antonym swap low, not both near the threshold."""
    article = (ROOT / "examples" / "articles" / "000_337dc3b85a9c6a45.txt").read_text(encoding="utf-8")
    sentence = next(s for s in article.split("\n") if "secretly provided" in s).strip()
    first = sentence.split(". ")[0].rstrip(".") + "."
    assert _score(checker, first, article)[1] >= 0.9
    assert _score(checker, first.replace("provided", "refused"), article)[1] <= 0.2


def test_a_quote_must_be_verbatim(checker: FidelityChecker) -> None:
    assert _score(checker, "Mayor Ann Lee said: “We kept our promise to families.”")[0]
    assert not _score(checker, "Mayor Ann Lee said: “We kept every promise to our families.”")[0]


def test_a_claim_is_judged_against_all_of_a_long_source(checker: FidelityChecker) -> None:
    """The supporting sentence sits at the end of a long document: nothing is silently truncated."""
    filler = " ".join(f"The committee met for the {n}th time to discuss road repairs in town." for n in range(80))
    long_source = filler + " Council members rejected a proposal to raise parking fees."
    result = checker.score([long_source], TRUE_CLAIMS["verbatim"])
    evidence = result.sentences[0].evidence
    assert result.supported and evidence is not None and "parking fees" in evidence.text


def test_a_claim_whose_facts_sit_in_two_sources_is_supported(checker: FidelityChecker) -> None:
    sources = {
        "a": "Springfield's council approved a budget of 40 million dollars on Monday.",
        "b": "The new budget funds two new schools, officials said.",
    }
    claim = "Springfield approved a 40 million dollar budget that funds two new schools."
    assert checker.score(sources, claim).supported


def test_a_spun_source_still_supports_a_true_sentence(checker: FidelityChecker) -> None:
    spun = (ROOT / "examples" / "articles" / "003_dad3e476f5be5b2e.txt").read_text(encoding="utf-8")
    claim = "Moscow said on Tuesday that six ATACMS had been fired at its Bryansk region."
    assert _score(checker, claim, spun)[0]


def test_summary_verdict_is_its_weakest_sentence(checker: FidelityChecker) -> None:
    result = checker.score(
        [SOURCE],
        "Springfield approved a 40 million dollar budget, the mayor said. The harbour bridge was closed for a year.",
    )
    assert len(result.sentences) == 2 and result.sentences[0].supported
    assert result.score == min(s.score for s in result.sentences) < result.sentences[0].score
    assert result.supported == (result.score >= checker.threshold)
    assert result.sentences[0].evidence is not None and "approved a budget" in result.sentences[0].evidence.text


def test_a_score_does_not_depend_on_what_else_is_scored(checker: FidelityChecker) -> None:
    """int8 models scale activations per input tensor: batched, a claim's score would move with its batch mates."""
    claim = TRUE_CLAIMS["compressed"]
    alone = checker.score([SOURCE], claim).score
    long_source = " ".join(f"Officials met for the {n}th time on the harbour bridge repairs." for n in range(40))
    crowded = list(checker.score_many([("other", [long_source], "The repairs took years."), (1, [SOURCE], claim)]))
    assert crowded[1].score == alone


def test_the_embedder_runs_each_text_once_however_often_it_is_asked() -> None:
    from service.embeddings import get_embedder

    embedder = get_embedder()
    bridge = "A sentence about the harbour bridge."
    texts = [bridge, "Another about parking fees.", bridge]
    before = embedder.encoded
    first = embedder.encode(texts)
    assert embedder.encoded - before <= 2
    again = embedder.encode(list(reversed(texts)))
    assert embedder.encoded - before <= 2
    assert np.array_equal(first[0], first[2]) and np.array_equal(again[0], first[2])


def test_the_onnx_judge_computes_what_the_trained_model_computed() -> None:
    """reference.json holds the torch model's logits at training time for fixed pairs."""
    reference = json.loads((ONNX_DIR / REFERENCE).read_text(encoding="utf-8"))
    expected = np.array([r["logit"] for r in reference])
    actual = get_judge().logits([(r["evidence"], r["claim"]) for r in reference])
    assert len(reference) >= 40
    assert np.corrcoef(expected, actual)[0, 1] >= 0.98
    assert np.mean(np.sign(expected) == np.sign(actual)) >= 0.95
    assert np.abs(expected - actual).mean() <= 0.35


def test_a_corrupted_model_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "onnx"
    shutil.copytree(ONNX_DIR, folder)
    data = bytearray((folder / JUDGE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / JUDGE).write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=r"judge\.onnx: sha256 .* does not match"):
        OnnxModel(JUDGE, 320, folder=folder)
    (folder / JUDGE).unlink()
    with pytest.raises(ConfigError, match=r"judge\.onnx: model file missing"):
        OnnxModel(JUDGE, 320, folder=folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"manifest\.json: cannot read"):
        read_manifest(folder)


def test_scoring_needs_no_torch() -> None:
    """The service runs on onnxruntime: briefing, the API and the checker never import torch."""
    code = (
        "import sys; import service.cli, service.pipeline.run, service.api.app, service.digest.build;"
        "from service.fidelity.checker import FidelityChecker;"
        "assert FidelityChecker().score(['Rain fell in Oslo on Monday.'], 'Rain fell in Oslo.').supported;"
        "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_score_cli_streams_results_and_names_malformed_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "pairs.jsonl"
    src.write_text(
        json.dumps({"id": "good", "sources": [SOURCE], "summary": "The council approved a budget.", "x": 1}) + "\n"
        + "{broken\n"
        + json.dumps({"id": "nosum", "sources": [SOURCE]}) + "\n"
        + json.dumps({"id": "bad", "sources": [SOURCE], "summary": "The harbour bridge was closed for a year."}) + "\n"
    )
    out = tmp_path / "scores.jsonl"
    assert main(["fidelity", "score", str(src), "-o", str(out)]) == 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["supported"]) for r in lines][:1] == [("good", True)] and lines[1]["id"] == "bad"
    assert set(lines[0]) == {"id", "score", "supported", "sentences"}
    assert 0.0 <= lines[1]["score"] <= 1.0
    err = capsys.readouterr().err
    assert f"{src}:2: invalid JSON" in err and f"{src}:3: 'summary' must be a non-empty string" in err
    assert "scored 2 in" in err and "pairs/s" in err


def test_calibration_floor_on_held_out_human_labels(checker: FidelityChecker) -> None:
    """A regression guard: 50 examples of each held-out part, judged as `calibrate` does, with
    the shipped calibration (these documents were never trained or fitted on)."""
    examples = [e for part in ("summedits/evaluation", "qags/b")
                for e in [x for x in load_examples() if x.part == part][:50]]
    judged = judge_examples(examples, checker)
    scores = checker.judge.calibration.probability(np.array([j.logit for j in judged]))
    labels = np.array([e.consistent for e in examples])
    auc, accuracy = roc_auc(scores, labels), balanced_accuracy(scores >= checker.threshold, labels)
    assert auc >= 0.62 and accuracy >= 0.58, (auc, accuracy)


def test_calibration_counts_what_each_rule_refuses_apart_from_the_judge() -> None:
    """A rule's firings are counted per part and label; the ablation shows what the rules add."""
    from training.judge.calibrate import Example, Judged, calibrate

    def example(n: int, part: str, consistent: bool) -> Example:
        return Example(id=str(n), part=part, sources=["s"], summary="x", consistent=consistent)

    # The judge ranks every example right on the held-out part except one inconsistent summary
    # it passes (logit 3), which the attribution rule refuses.
    rows = [("summedits/test", True, 2.0, set()), ("summedits/test", False, -2.0, {"qualifier"}),
            ("qags/a", True, 2.0, set()), ("qags/a", False, -2.0, {"attribution"}),
            ("qags/b", True, 2.0, set()), ("qags/b", False, 3.0, {"attribution"}), ("qags/b", False, -2.0, set())]
    examples = [example(n, part, ok) for n, (part, ok, _, _) in enumerate(rows)]
    judged = [Judged(logit=logit, broken=broken) for _, _, logit, broken in rows]
    result = calibrate(examples, judged, [], get_judge())
    firings = {f.rule: (f.fitted, f.held_out) for f in result.firings}
    assert firings["attribution"] == ((0, 1), (0, 1)) and firings["qualifier"] == ((0, 1), (0, 0))
    assert firings["pronoun"] == ((0, 0), (0, 0))
    assert result.ablation["judge + every rule (shipped)"] > result.ablation["judge + quote and flip rules"]


def test_extra_training_data_never_brings_in_a_held_out_document(tmp_path: Path) -> None:
    from training.judge.train import TrainConfig, news_documents, paraphrase_pairs

    held = {"The mayor resigned on Friday. Her deputy takes over until the election."}
    news = tmp_path / "news.jsonl"
    texts = ["A storm closed the port on Monday. Ships waited offshore.",
             "Her deputy takes over until the election. The council meets next week.",  # shares a held-out sentence
             "The bank raised rates by half a point. Markets fell.",
             "A new bridge opened. Traffic eased."]
    news.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    assert news_documents(TrainConfig(news=news, news_documents=2), held) == [texts[0], texts[2]]
    paws = tmp_path / "paws.jsonl"
    swap = {"evidence": "Flights from A to B.", "claim": "Flights from B to A.", "supported": False}
    paws.write_text(json.dumps(swap) + "\n", encoding="utf-8")
    [pair] = paraphrase_pairs(TrainConfig(paraphrases=paws))
    assert (pair.claim, pair.supported, pair.kind) == ("Flights from B to A.", False, "paraphrase")
    assert news_documents(TrainConfig(), held) == [] and paraphrase_pairs(TrainConfig()) == []


def test_entailment_pairs_count_only_entailment_as_support(tmp_path: Path) -> None:
    """Stage 1's data: MultiNLI and SNLI read from git copies; a neutral hypothesis is as
    unsupported as a contradiction, and SNLI's tokenised text is put back together."""
    from training.judge.train import Stage, TrainConfig, entailment_pairs
    from training.sources.entailment import pairs

    def repo(name: str, files: dict[str, str]) -> Path:
        root = tmp_path / name
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-qm", "data"], check=True)
        return root / ".git"

    mnli = "index\tpremise\thypothesis\tgold_label\tnumber of correct responses (out of 100)\n" + "".join(
        f"{i}\tThe bank raised rates.\t{h}\t{label}\t90\n"
        for i, (h, label) in enumerate([("Rates went up.", "entailment"), ("Rates fell.", "contradiction"),
                                        ("The bank raised rates twice.", "neutral"), ("Odd.", "-")])
    )
    hans = repo("hans", {"berts_of_a_feather/mnli_development_set_number_of_correct_responses.txt": mnli})
    snli = {f"dataset/eSNLI/{name}.{split}": text for split in ("dev", "test") for name, text in (
        ("s1", f"A man , in a {split} hat , sits .\n"), ("s2", "A man sits .\n"), ("labels", "entailment\n"))}
    rows = pairs(hans, repo("esnli", snli))
    assert [(r["claim"], r["supported"]) for r in rows[:3]] == [
        ("Rates went up.", True), ("Rates fell.", False), ("The bank raised rates twice.", False)]
    assert [r["evidence"] for r in rows[3:]] == ["A man, in a dev hat, sits.", "A man, in a test hat, sits."]
    data = tmp_path / "entailment.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    built = entailment_pairs(TrainConfig(stage=Stage.PAIRS, entailment=data))
    assert len(built) == 5 and {p.kind for p in built} == {"entailment"} and sum(p.supported for p in built) == 3
