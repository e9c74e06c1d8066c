"""The storage layer: one repository per kind of record, each handing out models and typed records;
no table row, and no SQLAlchemy, outside service/storage/ (and the migrations)."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

import numpy as np
import pytest

from service.embeddings import Embedder
from service.ingest import ingest_paths
from service.models import Briefing, Digest, ErrorKind, RunRecord, Status
from service.onnx_models import EMBEDDER, OnnxModel, read_manifest
from service.pipeline.prepare import Corpus, PreparedStory, prepare, story_corpus
from service.requests import ArticleIn, StoredRequest
from service.settings import Settings
from service.storage import Store, tables
from service.storage.articles import ArticleRepository
from service.storage.briefings import BriefingRepository
from service.storage.digests import DigestRepository, StoryRepository
from service.storage.records import BriefingRecord, BriefingState, DigestRecord
from service.storage.search import SearchRepository
from tests.conftest import EXAMPLES, make_settings

SERVICE = Path(__file__).resolve().parent.parent / "service"
INSIDE = (SERVICE / "storage", SERVICE / "migrations")
ROWS = {name for name, value in vars(tables).items() if isinstance(value, type) and issubclass(value, tables.Base)}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_outside_storage_touches_rows_or_sql() -> None:
    outside = [p for p in SERVICE.rglob("*.py") if not any(p.is_relative_to(d) for d in INSIDE)]
    assert len(outside) > 50
    def forbidden(name: str) -> bool:
        return name.split(".")[0] == "sqlalchemy" or name.startswith("service.storage.tables")

    offenders = {str(p.relative_to(SERVICE)): sorted(filter(forbidden, _imports(p))) for p in outside}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("repository", [ArticleRepository, BriefingRepository, DigestRepository, StoryRepository,
                                        SearchRepository])
def test_no_repository_method_takes_or_returns_a_row(repository: type) -> None:
    methods = [m for name, m in inspect.getmembers(repository, inspect.isfunction) if not name.startswith("_")]
    assert methods
    for method in methods:
        hints = typing.get_type_hints(method)
        assert not {row for row in ROWS if row in repr(hints)}, (method.__name__, hints)


def _briefing(title: str) -> Briefing:
    return Briefing(title=title, summary="", key_points=[], sources=[], run=RunRecord(model="m", prompts={}))


def test_a_briefing_job_reads_back_as_its_typed_request_and_briefing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    store.migrate()
    request = StoredRequest(articles=[ArticleIn(text="The council met on Monday.", source="Wire")])
    queued = store.briefings.create(request)
    assert isinstance(queued, BriefingRecord) and queued.status is Status.QUEUED and queued.briefing is None
    claim = store.briefings.claim(queued.id, lease_s=60)
    assert claim.outcome == "claimed" and claim.record is not None and claim.record.request == request
    assert store.briefings.claim(queued.id, lease_s=60).outcome == "busy"
    assert not store.briefings.finish(queued.id, attempt=claim.attempt + 1, briefing=_briefing("a stale attempt"))
    assert store.briefings.finish(queued.id, attempt=claim.attempt, briefing=_briefing("done"))
    done = store.briefings.get(queued.id)
    assert done is not None and done.status is Status.DONE and done.briefing == _briefing("done")
    failed = store.briefings.create(request, Status.RUNNING)
    assert store.briefings.finish(failed.id, attempt=failed.attempts, error="no text", kind=ErrorKind.CANNOT_BRIEF)
    page, total = store.briefings.page()
    assert total == 2 and all(type(job) is BriefingState for job in page)
    assert {job.id: job.error_kind for job in page} == {queued.id: None, failed.id: ErrorKind.CANNOT_BRIEF}
    assert store.briefings.get("no-such-id") is None


def test_a_digest_and_its_story_briefings_read_back_as_models(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    store.migrate()
    requested, queued = store.digests.request("2024-11-18")
    assert queued and isinstance(requested, DigestRecord) and requested.status is Status.QUEUED
    assert store.digests.request("2024-11-18") == (requested, False)  # one already queued is left as it is
    claim = store.digests.claim("2024-11-18", lease_s=60)
    store.stories.save("2024-11-18", "story-1", _briefing("story one"))
    assert store.stories.get("2024-11-18", "story-1") == _briefing("story one")
    digest = Digest(date="2024-11-18", timezone="UTC", status=Status.DONE)
    assert store.digests.finish("2024-11-18", status=Status.DONE, digest=digest, run=claim.attempt)
    stored = store.digests.get("2024-11-18")
    assert stored is not None and stored.digest == digest and stored.status is Status.DONE
    assert store.digests.earlier("2024-11-19", days=3) == [digest]
    store.stories.drop("2024-11-18", keep=set())
    assert store.stories.get("2024-11-18", "story-1") is None


def test_sentence_vectors_kept_with_their_article_are_never_computed_again(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    store.migrate()
    articles = ingest_paths([EXAMPLES]).articles
    ids = [a.id for a in articles]
    embedder = Embedder(OnnxModel(EMBEDDER, read_manifest().embedder_max_tokens), cached=0)
    settings = make_settings()
    kept: list[int] = []

    def prepared(settings: Settings) -> Corpus:
        return prepare(articles, settings, embedder=embedder, stored=store.vectors.get(ids, embedder.fingerprint),
                       keep=lambda new: kept.append(store.vectors.save(new, embedder.fingerprint)))

    first = prepared(settings)
    assert embedder.encoded > 100 and kept == [len(articles)]
    assert store.vectors.save(store.vectors.get(ids, embedder.fingerprint), embedder.fingerprint) == 0  # kept once
    embedder.encoded = 0
    again = prepared(settings)
    assert embedder.encoded == 0 and kept[-1] == 0 and again.stories == first.stories
    assert again.index.vectors is not None and first.index.vectors is not None
    assert np.array_equal(again.index.vectors, first.index.vectors)
    assert store.vectors.get(ids, "another model") == {}  # another model's vectors are not these
    shorter = make_settings()
    shorter.pipeline.max_article_sentences = 5  # other sentences: the kept vectors are not theirs
    prepared(shorter)
    assert embedder.encoded > 0 and kept[-1] == len(articles)  # and those of the new split replace them
    embedder.encoded = 0
    prepared(shorter)
    assert embedder.encoded == 0


def test_a_story_sent_to_another_worker_reads_what_the_day_gave_it_without_preparing_the_day(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    store.migrate()
    articles = ingest_paths([EXAMPLES]).articles
    embedder = Embedder(OnnxModel(EMBEDDER, read_manifest().embedder_max_tokens), cached=0)
    settings = make_settings()
    day = prepare(articles, settings, embedder=embedder,
                  keep=lambda new: store.vectors.save(new, embedder.fingerprint))
    assert day.index.odd_words  # 003 is word-spun: its substitutes are found against the whole day
    for story in day.stories:
        sent = PreparedStory.model_validate_json(day.prepared(story).model_dump_json())  # through the queue
        embedder.encoded = 0
        ids = [c.article.id for c in sent.articles]
        alone = story_corpus(sent, settings, embedder=embedder, stored=store.vectors.get(ids, embedder.fingerprint))
        assert embedder.encoded == 0 and alone.stories == [story] and alone.briefed([story]) == day.briefed([story])
        whole = day.index.subset(ids)
        assert alone.index.sentences == whole.sentences and alone.index.odd_words == whole.odd_words
        assert alone.index.flags == whole.flags and alone.index.texts == whole.texts
        assert alone.index.vectors is not None and whole.vectors is not None
        assert np.array_equal(alone.index.vectors, whole.vectors)
        assert alone.disagreements == {story.id: day.disagreements[story.id]}
