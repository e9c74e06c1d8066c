"""Daily digests: the example articles as two stories with the range dispute, idempotent reruns, resume
after a kill, bad inputs skipped by name, the scheduler's clock, and the HTTP endpoints. LLM replies are
replayed from tests/cassettes/test_digest/."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from service.api.app import create_app
from service.cli import main
from service.digest import build
from service.digest.feeds import read_feed
from service.digest.schedule import digest_day, missed_days, next_run
from service.embeddings import get_embedder
from service.errors import ConfigError
from service.ingest import ingest_paths
from service.llm import build_chat_model
from service.models import Article, CleanArticle, Digest, Status
from service.pipeline import prepare as prepare_module
from service.resources import MIGRATIONS_DIR
from service.settings import DigestSettings, Settings
from service.storage import Store
from service.storage.tables import DigestRow, DigestStoryRow
from service.tasks import digests as digest_tasks
from service.tasks.app import make_celery
from service.tasks.queue import Queue
from service.tasks.schedule import tick_once
from tests.conftest import EXAMPLES, cassette, make_settings

DAY = "2024-11-18"
KEY = {"Authorization": "Bearer k1"}
SHORT = (
    "The city council of Springfield approved a budget of 40 million dollars on Monday, the mayor said.\n"
    "The budget funds two new schools and repairs to the harbour bridge, officials said."
)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, database_url: str, llm_base_url: str,
            tmp_path: Path) -> Path:
    """Point the `briefing` command at a fresh database, an output folder and the recorded LLM."""
    out = tmp_path / "digests"
    monkeypatch.setenv("BRIEFING_DATABASE_URL", database_url)
    monkeypatch.setenv("BRIEFING_DIGEST__OUTPUT_DIR", str(out))
    monkeypatch.setenv("BRIEFING_LLM_BASE_URL", llm_base_url)
    monkeypatch.setenv("BRIEFING_LLM__MAX_RETRIES", "0")
    return out


def _ids() -> list[str]:
    return [a.id for a in ingest_paths([EXAMPLES]).articles]


def _count(store: Store, table: type[DigestRow] | type[DigestStoryRow]) -> int:
    with store.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_digest_run_on_the_examples_writes_two_stories_with_the_range_dispute_and_reruns_in_place(
    cli_env: Path, database_url: str, record_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ingest", str(EXAMPLES), "--date", DAY]) == 0
    cleaned: Counter[str] = Counter()
    real_clean = prepare_module.clean_article

    def counting_clean(article: Article, *args: Any) -> CleanArticle:
        cleaned[article.id] += 1
        return real_clean(article, *args)

    monkeypatch.setattr(prepare_module, "clean_article", counting_clean)
    with cassette("test_digest/examples", record_mode):
        assert main(["digest", "run", "--date", DAY]) == 0
    ids = _ids()
    assert cleaned == dict.fromkeys(ids, 1)  # one preparation for the two stories
    digest = Digest.model_validate_json((cli_env / f"{DAY}.json").read_text())
    assert digest.status == "done" and digest.articles == 4
    first, second = digest.stories
    assert (first.rank, set(first.article_ids), first.independent_sources) == (1, set(ids[1:]), 3)
    assert (second.rank, second.article_ids, second.independent_sources) == (2, [ids[0]], 1)
    for story in digest.stories:
        assert story.briefing is not None and story.briefing.key_points
        cited = {s for p in story.briefing.summary_sentences + story.briefing.key_points for s in p.sources}
        assert cited and cited <= set(story.article_ids)  # each story cites only its own articles
    [dispute] = first.disagreements
    assert dispute.about == "ATACMS range"
    assert [(c.text, c.sources) for c in dispute.claims] == [("300km (190 miles)", ids[2:]), ("100 km", [ids[1]])]
    assert second.disagreements == []
    flags = {s.id: s.flags for s in first.briefing.sources}  # type: ignore[union-attr]
    assert flags[ids[3]][0].kind == "word-spun" and flags[ids[1]][0].kind == "machine-translated"

    page = (cli_env / f"{DAY}.html").read_text()
    assert page.startswith("<!doctype html>") and "Sources disagree on ATACMS range" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page  # self-contained
    markdown = (cli_env / f"{DAY}.md").read_text()
    assert "## 1. " in markdown and "## 2. " in markdown and "ATACMS range: 300km (190 miles) [1][2]; 100 km [3]" in \
        markdown.replace("**Sources disagree on ", "").replace(":**", ":")
    feed = feedparser.parse((cli_env / "feed.atom").read_bytes())
    assert not feed.bozo and [e.id for e in feed.entries] == [f"urn:briefing:digest:{DAY}"]

    assert main(["digest", "run", "--date", DAY]) == 0  # finished stories are kept: no LLM call at all
    kept = Digest.model_validate_json((cli_env / f"{DAY}.json").read_text())
    assert (kept.totals.stories_reused, kept.totals.llm_calls) == (2, 0)
    assert kept.stories == digest.stories
    with cassette("test_digest/rerun", record_mode):
        assert main(["digest", "run", "--date", DAY, "--fresh"]) == 0  # every story briefed again
    again = Digest.model_validate_json((cli_env / f"{DAY}.json").read_text())
    assert [s.id for s in again.stories] == [s.id for s in digest.stories]
    assert again.totals.stories_reused == 0 and again.totals.llm_calls == digest.totals.llm_calls
    store = Store(database_url)
    assert (_count(store, DigestRow), _count(store, DigestStoryRow)) == (1, 2)  # replaced, never duplicated
    assert set(store.vectors.get(ids, get_embedder().fingerprint)) == set(ids)  # kept with the articles
    assert len(feedparser.parse((cli_env / "feed.atom").read_bytes()).entries) == 1


def test_stories_beyond_the_cap_are_listed_not_briefed_and_the_run_exits_0(
    cli_env: Path, record_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFING_DIGEST__MAX_STORIES", "1")
    assert main(["ingest", str(EXAMPLES), "--date", DAY]) == 0
    with cassette("test_digest/examples", record_mode):  # only story 1 is briefed: a part of that recording
        assert main(["digest", "run", "--date", DAY]) == 0
    digest = Digest.model_validate_json((cli_env / f"{DAY}.json").read_text())
    ids = _ids()
    [briefed] = digest.stories
    assert briefed.rank == 1 and briefed.briefing is not None and digest.status == "done" and digest.skipped == []
    [further] = digest.further
    assert (further.rank, further.article_ids, further.independent_sources) == (2, [ids[0]], 1)
    assert further.title == "The United States has secretly provided Ukrainian armed forces with long-range ballistic…"
    assert further.sources == ["000_337dc3b85a9c6a45.txt"]  # no outlet or URL: the file
    listed = f"2. {further.title}"
    assert listed in (cli_env / f"{DAY}.md").read_text().replace("\\", "")
    page = (cli_env / f"{DAY}.html").read_text()
    assert "<h2>Further stories</h2><ol start='2'><li>" in page and "1 more listed below" in page


def test_a_story_that_continues_an_earlier_digest_links_to_it_and_lists_what_is_new(
    cli_env: Path, record_mode: str
) -> None:
    *earlier, spun = sorted(EXAMPLES.iterdir())  # 000 (April), 001 and 002 (November); 003 a day later
    assert main(["ingest", *map(str, earlier), "--date", "2024-11-17"]) == 0
    with cassette("test_digest/continues-first", record_mode):
        assert main(["digest", "run", "--date", "2024-11-17"]) == 0
    assert main(["ingest", str(spun), "--date", DAY]) == 0
    with cassette("test_digest/continues-next", record_mode):
        assert main(["digest", "run", "--date", DAY]) == 0
    first = Digest.model_validate_json((cli_env / "2024-11-17.json").read_text())
    assert len(first.stories) == 2 and all(s.continues is None for s in first.stories)  # nothing before it
    [was] = [s for s in first.stories if set(s.article_ids) == set(_ids()[1:3])]
    [story] = Digest.model_validate_json((cli_env / f"{DAY}.json").read_text()).stories
    assert story.continues is not None and story.briefing is not None
    assert (story.continues.date, story.continues.story_id) == ("2024-11-17", was.id)  # the same event, not April's
    said = [p.text for p in story.briefing.summary_sentences + story.briefing.key_points]
    assert {p.text for p in story.continues.new} <= set(said)
    markdown = (cli_env / f"{DAY}.md").read_text()
    assert f"Continues “{was.briefing.title}”" in markdown and "New since 2024-11-17" in markdown  # type: ignore[union-attr]
    assert "New since 2024-11-17" in (cli_env / f"{DAY}.html").read_text()


def test_a_killed_run_resumes_after_the_stories_it_finished(
    settings: Settings, tmp_path: Path, llm_base_url: str, record_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.database_url = f"sqlite:///{tmp_path / 'b.db'}"
    settings.digest.output_dir = str(tmp_path / "out")
    store = Store(settings.database_url)
    store.migrate()
    noon = datetime(2024, 11, 18, 12, tzinfo=UTC)
    store.articles.add([a.model_copy(update={"published": noon}) for a in ingest_paths([EXAMPLES]).articles])
    model = build_chat_model(settings.llm, llm_base_url)
    real, briefed = build.abrief, []

    def killed_after_one(corpus: Any, story: Any, **kwargs: Any) -> Any:
        if briefed:
            raise KeyboardInterrupt  # the process dies during the second story
        briefed.append(story.id)
        return real(corpus, story, **kwargs)

    monkeypatch.setattr(build, "abrief", killed_after_one)
    with cassette("test_digest/resume-first", record_mode), pytest.raises(KeyboardInterrupt):
        build.run_digest(date(2024, 11, 18), store=store, settings=settings, model=model, fresh=True)
    stale = datetime.now(UTC) - timedelta(seconds=settings.queue.visibility_timeout_s + 60)
    with store.db.sessions.begin() as session:  # as a SIGKILL leaves it: still running, silent since
        session.execute(update(DigestRow).values(status="running", updated_at=stale))
    assert _count(store, DigestStoryRow) == 1

    counted: list[str] = []
    monkeypatch.setattr(build, "abrief", lambda corpus, story, **kw: counted.append(story.id) or real(corpus, story,
                                                                                                       **kw))
    queue = Queue(make_celery(settings, model=model, eager=True))
    with cassette("test_digest/resume-rest", record_mode):  # the schedule resends the lost run; tasks run inline
        assert tick_once(store, settings, queue, datetime.now(UTC))["resent"] == 1
    row = store.digests.get(DAY)
    assert row is not None and row.status == "done" and row.runs == 2
    digest = Digest.model_validate(row.digest)
    assert digest.totals.stories_reused == 1 and len(digest.stories) == 2
    assert briefed[0] not in counted and len(counted) == 1  # only the unfinished story was briefed


def _atom(entries: list[dict[str, str]]) -> str:
    items = "".join(
        f"<entry><id>urn:x:{n}</id><title>{e['title']}</title>"
        + (f"<updated>{e['updated']}</updated>" if e.get("updated") else "")
        + f"<content type='text'>{e['text']}</content></entry>"
        for n, e in enumerate(entries)
    )
    return f"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Local wire</title>{items}</feed>"


def test_bad_feeds_folders_and_undated_articles_are_skipped_by_name_and_the_rest_is_built(
    settings: Settings, tmp_path: Path, llm_base_url: str, record_mode: str
) -> None:
    good = tmp_path / "wire.atom"
    good.write_text(_atom([
        {"title": "Budget", "text": SHORT, "updated": "2024-11-18T09:00:00Z"},
        {"title": "Budget (wire copy)", "text": SHORT + "\nDistributed by Example Wire.",
         "updated": "2024-11-18T10:00:00Z"},
        {"title": "Undated", "text": "An entry the feed gives no date at all, so no digest can place it."},
        {"title": "Other day", "text": "Yesterday's news.", "updated": "2024-11-17T09:00:00Z"},
    ]))
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item>unclosed")
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "undated.txt").write_text("A headline\nText of an article that carries no date anywhere.\n")
    settings.database_url = f"sqlite:///{tmp_path / 'b.db'}"
    settings.digest.output_dir = str(tmp_path / "out")
    settings.digest.feeds = [str(good), str(broken), str(tmp_path / "missing.xml")]
    settings.digest.folder = str(folder)
    store = Store(settings.database_url)
    store.migrate()
    with cassette("test_digest/inputs", record_mode):
        digest = build.run_digest(date(2024, 11, 18), store=store, settings=settings,
                                  model=build_chat_model(settings.llm, llm_base_url))
    reasons = {s.origin: s.reason for s in digest.skipped}
    assert reasons[str(broken)].startswith("does not parse as RSS or Atom")
    assert reasons[str(tmp_path / "missing.xml")] == "feed file does not exist"
    assert reasons[f"{good}#urn:x:2"] == "entry has no publication date"
    assert reasons[str(folder / "undated.txt")] == "article has no publication date"
    assert len(reasons) == 4  # the other day's entry is not skipped: it belongs to another digest
    assert digest.status == "done" and digest.inputs == {"feeds": 2, "folder": 0, "stored": 0}
    [story] = digest.stories
    assert story.independent_sources == 1 and len(story.duplicates[0]) == 2  # the wire copy is the same source
    assert story.briefing is not None and [s.title for s in story.briefing.sources] == ["Budget"]  # briefed once
    assert json.loads((tmp_path / "out" / f"{DAY}.json").read_text())["skipped"][0]["reason"]

    settings.digest.folder = str(tmp_path / "nowhere")
    settings.digest.feeds = []
    again = build.run_digest(date(2024, 11, 18), store=store, settings=settings)  # no model: none is needed
    assert {s.origin: s.reason for s in again.skipped} == {str(tmp_path / "nowhere"): "watched folder does not exist"}
    assert [s.id for s in again.stories] == [story.id]  # the feed's article was stored with its date

    settings.digest.output_dir = str(good)  # a file, not a folder
    with pytest.raises(ConfigError, match="digest.output_dir: cannot write the digest of 2024-11-18"):
        build.run_digest(date(2024, 11, 18), store=store, settings=settings)
    row = store.digests.get(DAY)
    assert row is not None and row.status == "done" and row.digest  # nothing already made is lost


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """Serve tmp_path over HTTP on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(("declared", "actual"), [("iso-8859-1", "utf-8"), ("utf-8", "cp1252")])
def test_a_feed_in_another_encoding_than_declared_is_read_right(tmp_path: Path, declared: str, actual: str) -> None:
    text = "Le café de la gare a réouvert lundi après des travaux, a déclaré le maire de Lyon. " * 3
    feed = _atom([{"title": "Gare", "updated": "2024-11-18T09:00:00Z", "text": text}])
    feed = feed.replace("<?xml version='1.0'?>", f"<?xml version='1.0' encoding='{declared}'?>")
    path = tmp_path / "wire.atom"
    path.write_bytes(feed.encode(actual))
    [article] = read_feed(str(path), timeout_s=5).articles
    assert "café de la gare a réouvert" in article.text and "Ã" not in article.text


def test_a_feed_is_read_from_a_url(served: str, tmp_path: Path) -> None:
    (tmp_path / "wire.atom").write_text(_atom([{"title": "Budget", "text": SHORT, "updated": "2024-11-18T09:00:00Z"}]))
    read = read_feed(f"{served}/wire.atom", timeout_s=5)
    assert [(a.title, a.source, a.published) for a in read.articles] == [
        ("Budget", "Local wire", datetime(2024, 11, 18, 9, tzinfo=UTC))
    ]
    missing = read_feed(f"{served}/gone.atom", timeout_s=5)
    assert missing.skipped[0].reason.startswith("feed cannot be downloaded (HTTP Error 404")


def test_daily_run_times_respect_the_time_zone_and_daylight_saving() -> None:
    london = DigestSettings(timezone="Europe/London", time="06:00")
    # the night clocks went forward: 06:00 local is 05:00 UTC
    assert next_run(datetime(2024, 3, 31, 0, 30, tzinfo=UTC), london) == datetime(2024, 3, 31, 5, tzinfo=UTC)
    assert next_run(datetime(2024, 3, 31, 5, 0, tzinfo=UTC), london) == datetime(2024, 4, 1, 5, tzinfo=UTC)
    assert digest_day(datetime(2024, 3, 31, 5, tzinfo=UTC), london) == date(2024, 3, 30)
    tokyo = DigestSettings(timezone="Asia/Tokyo", time="06:00")
    assert digest_day(datetime(2024, 11, 18, 22, tzinfo=UTC), tokyo) == date(2024, 11, 18)  # already the 19th there
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        DigestSettings(timezone="Mars/Base")


def test_missed_days_are_caught_up_on_start_and_the_schedule_can_be_turned_off(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.database_url = f"sqlite:///{tmp_path / 'b.db'}"
    settings.digest.output_dir = str(tmp_path / "out")
    store = Store(settings.database_url)
    store.migrate()
    now = datetime(2024, 11, 21, 7, tzinfo=ZoneInfo("UTC"))  # after the 06:00 run of the 21st
    assert missed_days(store.digests, now, settings.digest) == [date(2024, 11, 20)]  # a new install: the last due day
    store.digests.start("2024-11-16")
    store.digests.finish("2024-11-16", status=Status.FAILED, error="LLM backend unreachable")
    assert missed_days(store.digests, now, settings.digest) == [date(2024, 11, d) for d in (17, 18, 19, 20)]
    settings.digest.catch_up_days = 2
    assert missed_days(store.digests, now, settings.digest) == [date(2024, 11, 19), date(2024, 11, 20)]
    settings.digest.catch_up_days = 7

    with store.db.sessions.begin() as session:  # it failed at its run time, days ago
        session.execute(update(DigestRow).values(updated_at=datetime(2024, 11, 17, 6, tzinfo=UTC)))
    queue = Queue(make_celery(settings, model=build_chat_model(settings.llm, "http://127.0.0.1:9/v1"), eager=True))
    assert tick_once(store, settings, queue, now)["requested"] == 5  # run inline: no articles, so no LLM
    ran = {r.date: r.status for r in store.digests.page()[0]}
    assert sorted(ran) == [f"2024-11-{d}" for d in range(16, 21)]
    assert set(ran.values()) == {"done"}  # a failed digest in the window is run again
    assert Digest.model_validate(store.digests.get("2024-11-20").digest).stories == []  # type: ignore[union-attr]
    assert tick_once(store, settings, queue, now)["requested"] == 0  # each day once

    monkeypatch.setenv("BRIEFING_DIGEST_SCHEDULE_ENABLED", "false")  # the `settings` fixture cleared the rest
    off = Settings(database_url=settings.database_url)
    assert off.digest.schedule_enabled is False
    with monkeypatch.context() as env:
        env.delenv("BRIEFING_DIGEST_SCHEDULE_ENABLED")
        env.setenv("BRIEFING_DIGEST__SCHEDULE_ENABLED", "false")
        assert Settings().digest.schedule_enabled is False
    later = datetime(2024, 11, 25, 7, tzinfo=UTC)
    before = store.digests.page()[1]
    assert tick_once(store, off, queue, later)["requested"] == 0
    assert store.digests.page()[1] == before  # nothing requested while the schedule is off


def test_the_daily_run_is_requested_once_when_its_time_comes(settings: Settings, tmp_path: Path) -> None:
    settings.database_url = f"sqlite:///{tmp_path / 'b.db'}"
    settings.digest.output_dir = str(tmp_path / "out")
    store = Store(settings.database_url)
    store.migrate()
    queue = Queue(make_celery(settings, model=build_chat_model(settings.llm, "http://127.0.0.1:9/v1"), eager=True))
    assert tick_once(store, settings, queue, datetime(2024, 11, 21, 5, 59, tzinfo=UTC))["requested"] == 1
    assert [r.date for r in store.digests.page()[0]] == ["2024-11-19"]  # before 06:00: the 20th is not due yet
    assert tick_once(store, settings, queue, datetime(2024, 11, 21, 6, 0, 30, tzinfo=UTC))["requested"] == 1
    assert [(r.date, r.status) for r in store.digests.page()[0]][0] == ("2024-11-20", "done")
    assert tick_once(store, settings, queue, datetime(2024, 11, 21, 7, tzinfo=UTC))["requested"] == 0  # once a day
    assert tick_once(store, settings, queue, datetime(2024, 11, 22, 6, 1, tzinfo=UTC))["requested"] == 1


def test_a_large_day_is_embedded_in_chunks_by_the_workers_and_gives_the_same_digest(
    tmp_path: Path, llm_base_url: str, record_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(api_keys="k1", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    settings.digest.output_dir = str(tmp_path / "out")
    settings.queue.embed_chunk_articles = 1  # four articles: four chunks
    chunks: list[list[str]] = []
    real = digest_tasks.embed_stored

    def embed(ids: list[str], *args: Any) -> int:
        chunks.append(ids)
        return real(ids, *args)

    monkeypatch.setattr(digest_tasks, "embed_stored", embed)
    app = create_app(settings, model=build_chat_model(settings.llm, llm_base_url), inline_jobs=True)
    articles = [{"text": a.text, "published": "2024-11-18T12:00:00Z"} for a in ingest_paths([EXAMPLES]).articles]
    with TestClient(app) as client:
        assert client.post("/v1/articles", json={"articles": articles}, headers=KEY).status_code == 201
        with cassette("test_digest/http", record_mode):  # the same story requests as test_digests_over_http
            assert client.post(f"/v1/digests/{DAY}/run", headers=KEY).status_code == 202
        done = client.get(f"/v1/digests/{DAY}").json()
    ids = _ids()
    assert sorted(chunks) == sorted([i] for i in ids)  # each article embedded once, in its own task
    assert done["status"] == "done" and [sorted(s["article_ids"]) for s in done["stories"]] == [
        sorted(ids[1:]), [ids[0]]]
    store: Store = app.state.store
    assert set(store.vectors.get(ids, get_embedder().fingerprint)) == set(ids)


def test_digests_over_http(tmp_path: Path, llm_base_url: str, record_mode: str) -> None:
    settings = make_settings(api_keys="k1", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    settings.digest.output_dir = str(tmp_path / "out")
    app = create_app(settings, model=build_chat_model(settings.llm, llm_base_url), inline_jobs=True)
    noon = "2024-11-18T12:00:00Z"
    articles = [{"text": a.text, "published": noon} for a in ingest_paths([EXAMPLES]).articles]
    with TestClient(app) as client:
        assert client.post("/v1/articles", json={"articles": articles}, headers=KEY).status_code == 201
        assert client.post(f"/v1/digests/{DAY}/run").status_code == 401
        store: Store = app.state.store
        store.digests.request(DAY)  # queued already (by the schedule): a POST adds no second run
        queued = client.post(f"/v1/digests/{DAY}/run", headers=KEY)
        assert queued.status_code == 202 and queued.json() == {
            "date": DAY, "status": "queued", "location": f"/v1/digests/{DAY}"}
        pending = client.get(f"/v1/digests/{DAY}").json()
        assert pending["status"] == "queued" and pending["stories"] == []
        with store.db.sessions.begin() as session:
            session.execute(update(DigestRow).values(status="failed"))
        with cassette("test_digest/http", record_mode):  # run inline: planned, one task per story, assembled
            assert client.post(f"/v1/digests/{DAY}/run", headers=KEY).status_code == 202
        done = client.get(f"/v1/digests/{DAY}").json()
        assert done["status"] == "done" and len(done["stories"]) == 2
        top = done["stories"][0]
        assert top["briefing"]["key_points"] and top["disagreements"][0]["about"] == "ATACMS range"
        assert {c["text"] for c in top["disagreements"][0]["claims"]} == {"300km (190 miles)", "100 km"}
        listing = client.get("/v1/digests").json()
        assert listing["total"] == 1 and listing["items"][0] | {"updated_at": None} == {
            "date": DAY, "status": "done", "error": None, "stories": 2,
            "generated_at": done["generated_at"], "updated_at": None}
        html = client.get(f"/v1/digests/{DAY}?format=html")
        assert html.headers["content-type"].startswith("text/html") and "ATACMS range" in html.text
        feed = feedparser.parse(client.get("/v1/digests/feed.atom").content)
        assert [e.id for e in feed.entries] == [f"urn:briefing:digest:{DAY}"]
        assert client.get("/v1/digests/2024-11-17").json()["error"]["code"] == "not_found"
        bad = client.post("/v1/digests/2024-13-45/run", headers=KEY)
        assert bad.status_code == 422 and bad.json()["error"]["field"].endswith("day")
        future = client.post("/v1/digests/2999-01-01/run", headers=KEY).json()["error"]
        assert future["code"] == "invalid_date" and "in the future" in future["message"]


def test_migrating_an_existing_database_keeps_its_articles(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", store.db.url)
    command.upgrade(config, "0001")
    with store.db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO articles (id, text, created_at) VALUES ('a1', 'Kept text.', '2024-11-18 10:00:00')"
        )
    store.migrate()
    [kept] = store.articles.between(datetime(2024, 11, 18, tzinfo=UTC), datetime(2024, 11, 19, tzinfo=UTC))
    assert isinstance(kept, Article) and (kept.text, kept.origin) == ("Kept text.", "db:a1")


def test_a_date_is_a_day_in_the_digest_time_zone(database_url: str) -> None:
    from service.digest.inputs import collect

    store = Store(database_url)
    store.migrate()
    paris = ZoneInfo("Europe/Paris")
    times = {
        "late on the 18th in Paris": datetime(2024, 11, 18, 23, 30, tzinfo=paris),
        "early on the 19th in Paris, still the 18th in UTC": datetime(2024, 11, 19, 0, 30, tzinfo=paris),
        "no offset, read as UTC": datetime(2024, 11, 18, 0, 30),
    }
    store.articles.add([
        Article(id=Article.make_id(text), text=text, published=published) for text, published in times.items()
    ])
    in_paris = collect(date(2024, 11, 18), store.articles, DigestSettings(timezone="Europe/Paris"))
    in_utc = collect(date(2024, 11, 18), store.articles, DigestSettings(timezone="UTC"))
    assert sorted(a.text for a in in_paris.articles) == ["late on the 18th in Paris", "no offset, read as UTC"]
    assert sorted(a.text for a in in_utc.articles) == sorted(times)
    assert in_paris.articles[0].published.tzinfo is not None  # type: ignore[union-attr]


def test_digest_files_written_at_the_same_moment_never_collide(tmp_path: Path) -> None:
    """Two digests writing feed.atom at once: each writer has a temporary file of its own, so no
    rename finds its file gone, and the feed ends as one writer's whole text."""
    from service.digest.outputs import _write

    feed = tmp_path / "feed.atom"
    errors: list[BaseException] = []
    texts = [f"<feed>{n}</feed>" * 2000 for n in range(8)]

    def writer(text: str) -> None:
        try:
            for _ in range(40):
                _write(feed, text)
        except OSError as err:
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(text,)) for text in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert feed.read_text(encoding="utf-8") in texts
    assert [p.name for p in tmp_path.iterdir()] == ["feed.atom"]


@pytest.mark.parametrize(("step", "target"), [
    ("collecting", "service.tasks.digests.collect"),
    ("planning", "service.tasks.digests.plan_collected"),
    ("sending its stories", "service.tasks.digests.chord"),
    ("assembling", "service.storage.digests.DigestRepository.earlier"),
])
def test_an_error_at_any_step_of_a_digest_run_ends_it_failed_with_its_reason(
    step: str, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that raises at any step leaves the digest failed (counted in /metrics), never running,
    and a second request runs it again."""
    settings = make_settings(api_keys="k1", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    settings.digest.output_dir = str(tmp_path / "out")
    app = create_app(settings, model=build_chat_model(settings.llm, "http://127.0.0.1:9/v1"), inline_jobs=True)

    def fails(*_: object, **__: object) -> None:
        raise OverflowError("date value out of range")

    def unbriefed(*_: object, **__: object) -> None:
        raise RuntimeError("no model in this test")

    monkeypatch.setattr("service.tasks.digests.brief_planned", unbriefed)
    monkeypatch.setattr(target, fails)
    texts = [SHORT, SHORT.replace("Springfield", "Shelbyville").replace("40", "41")]
    with TestClient(app) as client:
        articles = [{"text": t, "published": f"{DAY}T12:00:00Z"} for t in texts]
        assert client.post("/v1/articles", json={"articles": articles}, headers=KEY).status_code == 201
        assert client.post(f"/v1/digests/{DAY}/run", headers=KEY).status_code == 202
        failed = client.get(f"/v1/digests/{DAY}").json()
        assert (failed["status"], failed["error"]) == ("failed", f"{step}: internal error: OverflowError")
        metrics = client.get("/metrics").text
        assert 'briefing_task_failures_total{kind="internal",task="digest"} 1.0' in metrics
        assert 'briefing_tasks_running{task="digest"} 0.0' in metrics
        monkeypatch.undo()
        monkeypatch.setattr("service.tasks.digests.brief_planned", unbriefed)
        again = client.post(f"/v1/digests/{DAY}/run", headers=KEY)
        assert again.json()["status"] == "queued"
        assert client.get(f"/v1/digests/{DAY}").json()["status"] == "partial"  # every story unbriefed, none lost


def test_a_digest_date_before_1900_is_refused_at_the_door(tmp_path: Path, cli_env: Path) -> None:
    settings = make_settings(api_keys="k1", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    app = create_app(settings, model=build_chat_model(settings.llm, "http://127.0.0.1:9/v1"), inline_jobs=True)
    with TestClient(app) as client:
        refused = client.post("/v1/digests/0001-01-02/run", headers=KEY)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "invalid_date" and error["field"].endswith("day") and "1900-01-01" in error["message"]
        assert client.get("/v1/digests").json()["total"] == 0
    assert main(["digest", "run", "--date", "0001-01-02"]) == 2
