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
        "blurb.txt": "nothing left after cleaning (1 paragraphs dropped)",
    }
    assert [s["origin"].rsplit("/", 1)[-1] for s in data["sources"]] == ["002_67e75afd35c628c0.txt"]
    err = capsys.readouterr().err
    chunks = re.findall(r"map chunks: (\d+)/(\d+)", err)  # progress reported as the calls come back
    assert "empty.txt: file is empty" in err and chunks and chunks[-1][0] == chunks[-1][1]
