"""The reading pages: today's digest, a story whose every citation opens the source sentence it was
verified against, the archive, search in the database's own full-text search, a briefing's page,
a read key, and hostile article markup shown as text. Pages are also driven in Debian's chromium."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.cli import main
from service.llm import build_chat_model
from service.models import (
    Article,
    Briefing,
    Claim,
    Digest,
    DigestStory,
    Disagreement,
    Evidence,
    KeyPoint,
    RunRecord,
    SourceInfo,
    Status,
)
from service.requests import ArticleIn, StoredRequest
from service.settings import Settings
from service.storage import Store
from tests.conftest import EXAMPLES, REPLAY_URL, cassette, make_settings
from tests.served import in_thread

DAY = "2024-11-18"
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
HOSTILE = ('<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
           '<a href="javascript:window.pwned = 3">click</a><style>body { display: none }</style>')


def _settings(database_url: str, **pages: str) -> Settings:
    """Settings on this database, with these reading-page settings."""
    return make_settings(database_url=database_url, pages=pages)


@pytest.fixture
def digested(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The examples ingested and digested for DAY by the real commands (LLM replayed), in a fresh database."""
    for name in list(os.environ):
        if name.startswith("BRIEFING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BRIEFING_DATABASE_URL", database_url)
    monkeypatch.setenv("BRIEFING_DIGEST__OUTPUT_DIR", str(tmp_path / "digests"))
    monkeypatch.setenv("BRIEFING_LLM_BASE_URL", REPLAY_URL)
    monkeypatch.setenv("BRIEFING_LLM__MAX_RETRIES", "0")
    assert main(["ingest", str(EXAMPLES), "--date", DAY]) == 0
    with cassette("test_digest/examples", "none"):
        assert main(["digest", "run", "--date", DAY]) == 0
    return Store(database_url)


def _client(database_url: str, **pages: str) -> TestClient:
    settings = _settings(database_url, **pages)
    return TestClient(create_app(settings, model=build_chat_model(settings.llm, REPLAY_URL), inline_jobs=True))


def test_today_shows_the_stories_and_a_story_page_its_dispute_and_every_points_evidence(digested: Store) -> None:
    digest = digested.digests.get(DAY).digest  # type: ignore[union-attr]
    assert digest is not None
    november, april = digest.stories
    with _client(digested.db.url) as client:
        today = client.get("/")
        assert today.status_code == 200 and today.headers["content-security-policy"].startswith("default-src 'none'")
        for story in (november, april):
            assert f'href="/digests/{DAY}/{story.id}"' in today.text and _html(story.briefing.title) in today.text
        assert "3 independent sources" in today.text and f"Digest for {DAY}" in today.text

        page = client.get(f"/digests/{DAY}/{november.id}").text
        assert "Where the sources disagree" in page and "ATACMS range" in page and "300km (190 miles)" in page
        briefing = november.briefing
        assert briefing is not None
        cited = [*briefing.summary_sentences, *briefing.key_points]
        for n, point in enumerate(cited, 1):
            assert f'href="/digests/{DAY}/{november.id}/points/{n}#evidence"' in page
            evidence = client.get(f"/digests/{DAY}/{november.id}/points/{n}").text
            assert point.evidence is not None
            marked = evidence.split('<mark id="evidence">', 1)[1].split("</mark>", 1)[0]
            assert _html(point.evidence.text).strip("“” ") in marked or marked in _html(point.evidence.text)
        flags = {flag.kind for s in briefing.sources for flag in s.flags}
        assert {"word-spun", "machine-translated"} <= flags and all(f in page for f in flags)
        assert client.get(f"/digests/{DAY}/{november.id}/points/{len(cited) + 1}").status_code == 404
        assert client.get(f"/digests/{DAY}/nothing").status_code == 404

        archive = client.get("/digests").text
        assert f'href="/digests/{DAY}"' in archive and "2 stories" in archive


def test_a_page_shows_a_digest_made_again_and_not_the_one_it_cached(digested: Store) -> None:
    digest = digested.digests.get(DAY).digest  # type: ignore[union-attr]
    assert digest is not None
    november, april = digest.stories
    with _client(digested.db.url, fresh_s="0") as client:
        assert _html(april.briefing.title) in client.get("/").text  # type: ignore[union-attr]
        client.get(f"/digests/{DAY}/{april.id}")
        digested.digests.finish(DAY, status=Status.DONE, digest=digest.model_copy(update={"stories": [november]}))
        assert _html(april.briefing.title) not in client.get("/").text  # type: ignore[union-attr]
        assert client.get(f"/digests/{DAY}/{april.id}").status_code == 404


def test_search_finds_stories_by_their_words_in_the_databases_own_full_text_search(digested: Store) -> None:
    digest = digested.digests.get(DAY).digest  # type: ignore[union-attr]
    assert digest is not None
    november = digest.stories[0]
    hits = digested.search.search("ATACMS Ukraine")
    assert hits and hits[0].story_id == november.id and {h.date for h in hits} == {DAY}
    assert digested.search.search("authorized") or digested.search.search("authorised")  # stemmed
    assert digested.search.search("Atlantis zeppelin") == []
    assert digested.search.search('ATACMS" * (') == digested.search.search("ATACMS")  # its own syntax is text
    with _client(digested.db.url) as client:
        page = client.get("/search", params={"q": "ATACMS"}).text
        assert f'href="/digests/{DAY}/{november.id}"' in page
    digested.digests.finish(DAY, status=Status.DONE, digest=digest.model_copy(update={"stories": []}))
    assert digested.search.search("ATACMS") == []  # a date's stories are replaced when its digest is


def test_a_page_with_no_digest_says_how_to_make_one(tmp_path: Path) -> None:
    with _client(f"sqlite:///{tmp_path / 'empty.db'}") as client:
        page = client.get("/")
        assert page.status_code == 200 and "No digest yet" in page.text and "briefing digest run" in page.text


def test_pages_behind_a_read_key_ask_a_browser_for_it(tmp_path: Path) -> None:
    with _client(f"sqlite:///{tmp_path / 'b.db'}", read_keys="reader-key") as client:
        refused = client.get("/")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        wrong = base64.b64encode(b"me:nope").decode()
        assert client.get("/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        right = base64.b64encode(b"me:reader-key").decode()
        assert client.get("/", headers={"Authorization": f"Basic {right}"}).status_code == 200


def _hostile_digest(store: Store, day: str = DAY) -> tuple[Digest, Article]:
    text = f"The council approved the budget on Monday. {HOSTILE} The mayor welcomed it."
    article = Article(id=Article.make_id(text), text=text, origin="hostile.txt", title=f"Budget {HOSTILE}")
    store.articles.add([article])
    point = KeyPoint(text=f"The council approved {HOSTILE}", sources=[article.id], origin="extract",
                     evidence=Evidence(article_id=article.id, text=f"{HOSTILE} The mayor welcomed it.", similarity=1.0),
                     independent_sources=1)
    source = SourceInfo(id=article.id, title=f"Budget {HOSTILE}", origin="hostile.txt",
                        url="javascript:window.pwned=4", outlet=HOSTILE)
    briefing = Briefing(title=f"Budget {HOSTILE}", summary=point.text, summary_sentences=[point], key_points=[point],
                        disagreements=[Disagreement(about=HOSTILE, claims=[Claim(text=HOSTILE, sources=[article.id])])],
                        sources=[source], run=RunRecord(model="m", prompts={}))
    digest = Digest(date=day, timezone="UTC", status=Status.DONE, generated_at=datetime.now(UTC), articles=1,
                    stories=[DigestStory(id="s1", rank=1, article_ids=[article.id], independent_sources=1,
                                         briefing=briefing, disagreements=briefing.disagreements)])
    store.digests.start(day)
    store.digests.finish(day, status=Status.DONE, digest=digest)
    return digest, article


def test_markup_inside_an_article_is_shown_as_text_on_every_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with _client(url) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        digest, _ = _hostile_digest(store)
        record = store.briefings.create(StoredRequest(articles=[ArticleIn(text=HOSTILE)]), status=Status.RUNNING)
        assert store.briefings.finish(record.id, attempt=record.attempts, briefing=digest.stories[0].briefing)
        for path in ("/", f"/digests/{DAY}", f"/digests/{DAY}/s1", f"/digests/{DAY}/s1/points/1",
                     "/search?q=budget", f"/briefings/{record.id}"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "&lt;script&gt;" in page.text or path == "/search?q=budget", path
            for live in ("<script", "<img", "<style", 'href="javascript:', "<a href=\"javascript"):
                assert live not in page.text, (path, live)
            assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, through its chromedriver; required in CI, skipped elsewhere without it."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium and chromium-driver are required in CI")
        pytest.skip("chromium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    with webdriver.Chrome(options=options, service=Service(executable_path=driver)) as chrome:
        yield chrome


@pytest.fixture
def served(digested: Store) -> Iterator[str]:
    """The app on a real port, over the digested database."""
    settings = _settings(digested.db.url)
    _hostile_digest(digested, "2024-11-17")
    with in_thread(create_app(settings, model=build_chat_model(settings.llm, REPLAY_URL))) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_in_chromium_follows_a_citation_to_its_highlighted_evidence_and_searches(
    browser: Any, served: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    pages: dict[str, str] = {}
    browser.set_window_size(1280, 900)
    browser.get(served + "/")
    pages["today"] = browser.current_url
    browser.find_elements(By.CSS_SELECTOR, ".stories h2 a")[0].click()
    pages["story"] = browser.current_url
    assert browser.find_element(By.TAG_NAME, "table").text.count("km") >= 2  # the range dispute
    browser.find_elements(By.CSS_SELECTOR, "a.cite")[0].click()
    assert browser.current_url.endswith("#evidence")
    mark = browser.find_element(By.CSS_SELECTOR, "mark#evidence")
    assert mark.is_displayed() and mark.text and mark.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    pages["evidence"] = browser.current_url
    field = browser.find_element(By.NAME, "q")
    field.send_keys("ATACMS")
    field.submit()  # why: a form's submit does not wait for the page it opens, as a link's click does
    WebDriverWait(browser, 10).until(lambda b: "/search?q=" in b.current_url)
    assert "/search?q=ATACMS" in browser.current_url and browser.find_elements(By.CSS_SELECTOR, ".hits li")
    pages["search"] = browser.current_url
    pages["archive"] = served + "/digests"
    pages["hostile"] = served + "/digests/2024-11-17/s1"
    for name, url in pages.items():
        for width in (375, 1280):
            browser.set_window_size(width, 900)
            browser.get(url)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, width, overflow)
            browser.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    browser.get(pages["hostile"])
    assert browser.execute_script("return window.pwned === undefined && document.scripts.length === 0")
    assert not browser.find_elements(By.TAG_NAME, "img") and "<script>" in browser.find_element(By.TAG_NAME, "h1").text


def _html(text: str | None) -> str:
    import html

    return html.escape(text or "", quote=True)
