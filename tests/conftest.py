"""Shared fixtures: settings isolated from the environment, recorded LLM traffic, and model
outputs with noise.

LLM responses are replayed from tests/cassettes (record mode `none`). To re-record them
against the real embedded server:  pytest --record-mode=rewrite

While replaying, every model output carries seeded noise (tests/noise.py) larger than what
differs between CPUs, so what replays here replays on any x86-64 CPU; recording runs exact.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr
from langchain_core.language_models import BaseChatModel

from service.evals.recording import cassette as recorded
from service.evals.recording import configure, vcr_options
from service.ingest import ingest_paths
from service.llm import build_chat_model
from service.models import Article
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "articles"
CASSETTES = Path(__file__).parent / "cassettes"
# why: nothing listens here; in replay mode vcrpy answers before a connection is made.
REPLAY_URL = "http://127.0.0.1:9/v1"


def pytest_recording_configure(config: pytest.Config, vcr: vcr.VCR) -> None:
    """Register the JSON body matcher with pytest-recording."""
    configure(vcr)


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """Match on method, path and JSON body: the embedded server takes a new port each run."""
    return vcr_options()


@pytest.fixture(scope="session")
def record_mode(request: pytest.FixtureRequest) -> str:
    """Return pytest-recording's record mode ('none' unless re-recording)."""
    return str(request.config.getoption("--record-mode") or "none")


@pytest.fixture(scope="session", autouse=True)
def model_noise(record_mode: str) -> Iterator[None]:
    """Noise on every model output of a replayed run (none while recording)."""
    from tests.noise import noisy_models

    if record_mode != "none":
        yield
        return
    with noisy_models():
        yield


@pytest.fixture(scope="session")
def llm_base_url(record_mode: str) -> Iterator[str]:
    """Yield the embedded server's URL when recording, a dead URL when replaying."""
    if record_mode == "none":
        yield REPLAY_URL
        return
    from service.local_llm import EmbeddedServer

    settings = make_settings()
    with EmbeddedServer(settings.embedded, alias=settings.llm.model) as server:
        yield server.base_url


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Default settings; BRIEFING_* variables are also cleared for code under test that reads them (the CLI)."""
    for name in list(os.environ):
        if name.startswith("BRIEFING_"):
            monkeypatch.delenv(name)
    return make_settings()


def addressed(sentence: str) -> bool:
    """The shipped address model applied to one sentence, as prepare() applies it."""
    from service.addressed import get_address_model
    from service.embeddings import get_embedder

    return get_address_model().addressed(sentence, get_embedder().encode([sentence])[0])


def make_settings(**overrides: Any) -> Settings:
    """Default settings that ignore BRIEFING_* variables of the machine, with no retries,
    so a missing recording fails at once."""
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("BRIEFING_")]:
            env.delenv(name)
        settings = Settings(**overrides)
    settings.llm.max_retries = 0
    return settings


@pytest.fixture
def chat_model(settings: Settings, llm_base_url: str) -> BaseChatModel:
    """A chat model pointed at the recorded (or, when recording, the live) embedded server."""
    return build_chat_model(settings.llm, llm_base_url)


@contextmanager
def cassette(name: str, record_mode: str) -> Iterator[Any]:
    """Use tests/cassettes/<name>.yaml outside a single test function (module fixtures)."""
    with recorded(CASSETTES / f"{name}.yaml", record_mode) as tape:
        yield tape


@pytest.fixture(scope="session")
def example_articles() -> list[Article]:
    """The four example articles shipped in examples/articles."""
    result = ingest_paths([EXAMPLES])
    assert not result.skipped
    return result.articles


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session; skipped only outside CI when not installed."""
    from tests import postgres

    if not postgres.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL (Debian's postgresql package) is required in CI")
        pytest.skip("PostgreSQL is not installed")
    with postgres.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'briefing.db'}"
    from tests import postgres

    return postgres.new_database(request.getfixturevalue("postgres_admin_url"))
