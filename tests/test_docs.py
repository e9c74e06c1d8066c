"""The documentation: the README stays a five-minute read, and the docs build as a site with no
broken link or anchor (mkdocs in strict mode turns each into an error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_is_short_and_links_only_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    for page in {line.split("](docs/")[1].split(")")[0].split("#")[0]
                 for line in readme.splitlines() if "](docs/" in line}:
        assert (ROOT / "docs" / page).is_file(), page


def test_the_docs_build_with_no_broken_link(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "http" / "index.html").is_file()
