"""The program installs like a package: a wheel built from the checkout holds its prompts and
data, and briefs with no checkout in sight."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTE = ROOT / "tests" / "cassettes" / "test_package" / "wheel.yaml"
ARTICLE = ROOT / "examples" / "articles" / "002_67e75afd35c628c0.txt"

# Runs in an interpreter without `site` (-S): only the installed wheel and this venv's
# dependencies are importable, never the checkout or its editable install.
DRIVER = """
import sys
from pathlib import Path
import service
from service.cli import main
from service.evals.recording import cassette

site, tape, mode, article, out = sys.argv[1:]
assert Path(service.__file__).is_relative_to(site), service.__file__
with cassette(Path(tape), mode):
    sys.exit(main(["brief", article, "--format", "json", "-o", out]))
"""


def test_a_built_wheel_ships_prompts_and_data_and_briefs_outside_the_checkout(
    tmp_path: Path, llm_base_url: str, record_mode: str
) -> None:
    # why: setuptools builds in the source tree; a copy keeps build/ out of the checkout and
    # stale files of earlier builds out of the wheel
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "cassettes"
    ))
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)], check=True)
    wheel = next(wheels.glob("briefing-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {"prompts/map/v1.yaml", "prompts/reduce/v1.yaml", "prompts/title/v1.yaml", "service/data/judge.json",
               "service/data/onnx/judge.onnx", "service/data/onnx/manifest.json", "service/data/cl100k_base.tiktoken",
               "service/migrations/env.py"}
    assert shipped <= names, sorted(shipped - names)
    training = [n for n in names if n.startswith("training/") or n.rsplit("/", 1)[-1] in (
        "train.py", "contrast.py", "calibrate.py")]
    assert not training, training  # the runtime wheel carries no training code

    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    dependencies = sysconfig.get_paths()["purelib"]
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(site), dependencies]),
        "BRIEFING_LLM__BASE_URL": llm_base_url, "BRIEFING_LLM__MAX_RETRIES": "0",
    }
    out = tmp_path / "briefing.json"
    run = subprocess.run(
        [sys.executable, "-S", "-c", DRIVER, str(site), str(CASSETTE), record_mode, str(ARTICLE), str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    briefing = json.loads(out.read_text())
    assert briefing["key_points"] and all(p["sources"] for p in briefing["key_points"])
    assert briefing["run"]["llm_calls"] >= 2
