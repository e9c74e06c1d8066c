"""Chunk: token limits hold, paragraph boundaries and numbers survive, the encoding is offline."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from service.chunk import chunk_article, count_tokens, get_encoding
from service.clean import clean_article
from service.errors import ConfigError
from service.models import Article, CleanArticle, Paragraph
from service.settings import ChunkSettings
from tests.conftest import addressed


def _clean(*texts: str) -> CleanArticle:
    article = Article(id="a1", text="\n".join(texts))
    return CleanArticle(
        article=article, paragraphs=[Paragraph(article_id="a1", index=i, text=t) for i, t in enumerate(texts, 1)]
    )


def test_chunks_respect_the_limit_and_keep_paragraph_numbers(example_articles: list[Article]) -> None:
    settings = ChunkSettings(max_tokens=300)
    for article in example_articles:
        cleaned = clean_article(article, addressed)
        chunks = chunk_article(cleaned, settings)
        assert all(c.tokens <= 300 for c in chunks)
        assert all(c.article_id == article.id for c in chunks)
        seen = [p.index for c in chunks for p in c.paragraphs]
        assert sorted(set(seen)) == [p.index for p in cleaned.paragraphs]


def test_chunks_break_on_paragraph_boundaries() -> None:
    paragraph = "The council met on Monday and approved the budget for the year. " * 5
    assert count_tokens(paragraph) == 66
    chunks = chunk_article(_clean(paragraph, paragraph, paragraph), ChunkSettings(max_tokens=150))
    assert [[p.index for p in c.paragraphs] for c in chunks] == [[1, 2], [3]]
    assert [c.id for c in chunks] == ["a1#0", "a1#1"]


def test_overlap_repeats_trailing_paragraphs() -> None:
    short = (
        "The council approved the budget on Monday and the mayor signed it into law at once, officials told reporters."
    )
    paragraphs = [f"{short} Item {n}." for n in range(4)]
    assert [count_tokens(p) for p in paragraphs] == [25] * 4
    chunks = chunk_article(_clean(*paragraphs), ChunkSettings(max_tokens=64, overlap_tokens=30))
    assert [[p.index for p in c.paragraphs] for c in chunks] == [[1, 2], [2, 3], [3, 4]]


def test_an_oversized_paragraph_is_split_on_sentences_and_keeps_its_number() -> None:
    long = " ".join(f"Sentence number {i} reports that 40 people attended the meeting." for i in range(60))
    chunks = chunk_article(_clean(long), ChunkSettings(max_tokens=100))
    assert len(chunks) > 5
    assert all(c.tokens <= 100 and [p.index for p in c.paragraphs] == [1] for c in chunks)
    rebuilt = " ".join(p.text for c in chunks for p in c.paragraphs)
    assert rebuilt == long


def test_overlap_must_be_smaller_than_the_chunk() -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        ChunkSettings(max_tokens=100, overlap_tokens=100)


def test_shipped_encoding_matches_the_published_checksum() -> None:
    data = (Path(__file__).resolve().parent.parent / "service" / "data" / "cl100k_base.tiktoken").read_bytes()
    assert hashlib.sha256(data).hexdigest().startswith("223921b7")
    assert count_tokens("hello world") == 2
    with pytest.raises(ConfigError, match="unknown encoding"):
        get_encoding("p50k_base")


def test_encoding_loads_with_no_network_and_an_empty_cache(tmp_path: Path) -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from service.chunk import count_tokens\n"
        "print(count_tokens('Army Tactical Missile System (ATACMS)'))\n"
    )
    env = {"TIKTOKEN_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert int(out.stdout) > 5
    assert not any(tmp_path.iterdir())
