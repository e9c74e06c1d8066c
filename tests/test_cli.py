"""The `briefing` command: one-line errors naming the problem, non-zero exits, partial batches."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from service.cli import EXIT_FAILED, EXIT_PARTIAL, main
from tests.conftest import EXAMPLES, cassette


@pytest.fixture(autouse=True)
def _clean_env(settings: Any) -> None:
    """Depend on `settings` so BRIEFING_* variables of the machine are cleared."""


def test_missing_path_fails_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["brief", str(missing)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert f"briefing: error: {missing}: no such file or directory" in err
    assert "no articles to brief" in err


def test_bad_setting_fails_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFING_LLM__TEMPERATURE", "hot")
    assert main(["brief", str(EXAMPLES)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert err.startswith("briefing: error: bad setting BRIEFING_LLM__TEMPERATURE:")
    assert len(err.splitlines()) == 1


def test_unknown_prompt_version_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brief", str(EXAMPLES), "--prompts", "map=v9"]) == EXIT_FAILED
    assert "unknown prompt version map=v9" in capsys.readouterr().err


def test_unreachable_backend_fails_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFING_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("BRIEFING_LLM__MAX_RETRIES", "0")
    assert main(["brief", str(EXAMPLES)]) == EXIT_FAILED
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert errors == [errors[0]] and "LLM backend unreachable" in errors[0]


def test_partial_batch_is_briefed_and_says_what_was_skipped(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    llm_base_url: str,
    record_mode: str,
) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blurb.txt").write_text("Now, let's delve into the potential future trends of this story.")
    monkeypatch.setenv("BRIEFING_LLM_BASE_URL", llm_base_url)
    out = tmp_path / "briefing.json"
    with cassette("test_cli/partial_batch", record_mode):
        args = ["brief", str(EXAMPLES / "002_67e75afd35c628c0.txt"), str(tmp_path), "--format", "json"]
        code = main([*args, "-o", str(out)])
    assert code == EXIT_PARTIAL
    data = json.loads(out.read_text())
    skipped = {Path(s["origin"]).name: s["reason"] for s in data["skipped"]}
    assert skipped == {
        "empty.txt": "file is empty",
        "blurb.txt": "nothing left after cleaning: 1 paragraph: meta-commentary ('let's delve')",
    }
    assert [s["origin"].rsplit("/", 1)[-1] for s in data["sources"]] == ["002_67e75afd35c628c0.txt"]
    err = capsys.readouterr().err
    chunks = re.findall(r"map chunks: (\d+)/(\d+)", err)  # progress reported as the calls come back
    assert "empty.txt: file is empty" in err and chunks and chunks[-1][0] == chunks[-1][1]


def test_a_huge_input_gives_an_output_a_reader_can_open(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A 5 MB text (40,000 paragraphs past the sentence bound) briefs into files of kilobytes: what was
    dropped is listed up to a bound and counted by reason, not copied out paragraph by paragraph."""
    from tests.fake_backend import FakeBackend

    line = "Officials counted {n} ballots in district {n} on Sunday, the commission said, after a long night."
    (tmp_path / "huge.txt").write_text("\n\n".join(line.format(n=n) for n in range(50_000)))
    assert (tmp_path / "huge.txt").stat().st_size > 5_000_000
    with FakeBackend() as backend:
        monkeypatch.setenv("BRIEFING_LLM_BASE_URL", backend.url)
        for fmt in ("json", "md"):
            assert main(["brief", str(tmp_path / "huge.txt"), "--format", fmt, "-o", str(tmp_path / f"out.{fmt}")]) == 0
    assert (tmp_path / "out.json").stat().st_size < 100_000 and (tmp_path / "out.md").stat().st_size < 100_000
    data = json.loads((tmp_path / "out.json").read_text())
    [(reason, count)] = data["dropped_counts"].items()
    assert "cost bound" in reason and count == 50_000 - 600
    assert "¶601–50000, beyond the first 600 sentences" in (tmp_path / "out.md").read_text()  # one entry for the tail
    with FakeBackend() as backend:
        monkeypatch.setenv("BRIEFING_LLM_BASE_URL", backend.url)
        monkeypatch.setenv("BRIEFING_PIPELINE__DROPPED_LISTED", "0")
        assert main(["brief", str(tmp_path / "huge.txt"), "--format", "md", "-o", str(tmp_path / "none.md")]) == 0
    assert "- 49400 more paragraphs not listed; all dropped paragraphs by reason: beyond the first 600" in (
        tmp_path / "none.md").read_text()
