"""Token-aware chunking on paragraph boundaries, with tiktoken encodings shipped in the package."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

import tiktoken

from service.errors import ConfigError
from service.models import Chunk, CleanArticle, Paragraph
from service.resources import DATA_DIR
from service.settings import ChunkSettings

# why: tiktoken downloads encodings on first use, which fails offline; ship and verify them.
_ENCODINGS = {
    "cl100k_base": {
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "pat_str": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        "special_tokens": {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    },
}


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """Load a tiktoken encoding from the files shipped in service/data, never the network."""
    spec = _ENCODINGS.get(name)
    if spec is None:
        raise ConfigError(f"chunk.encoding: unknown encoding '{name}' (shipped: {', '.join(_ENCODINGS)})")
    path = DATA_DIR / f"{name}.tiktoken"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise ConfigError(f"{path}: checksum mismatch, the shipped encoding file is corrupt")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }
    return tiktoken.Encoding(
        name=name,
        pat_str=str(spec["pat_str"]),
        mergeable_ranks=ranks,
        special_tokens=dict(spec["special_tokens"]),  # type: ignore[arg-type]
    )


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    """Count tokens of text with a shipped encoding."""
    return len(get_encoding(encoding).encode(text, disallowed_special=()))


def chunk_article(article: CleanArticle, settings: ChunkSettings) -> list[Chunk]:
    """Pack an article's kept paragraphs into chunks of at most max_tokens.

    A paragraph longer than the limit is split on sentence boundaries and keeps its number.
    Overlap repeats trailing paragraphs of the previous chunk up to overlap_tokens.
    """
    pieces = [p for para in article.paragraphs for p in _fit(para, settings)]
    chunks: list[Chunk] = []
    current: list[tuple[Paragraph, int]] = []
    for piece in pieces:
        used = sum(n for _, n in current)
        if current and used + piece[1] > settings.max_tokens:
            chunks.append(_make_chunk(article.article.id, len(chunks), current))
            current = _overlap(current, settings.overlap_tokens, settings.max_tokens - piece[1])
        current.append(piece)
    if current:
        chunks.append(_make_chunk(article.article.id, len(chunks), current))
    return chunks


def _fit(paragraph: Paragraph, settings: ChunkSettings) -> list[tuple[Paragraph, int]]:
    tokens = count_tokens(paragraph.text, settings.encoding)
    if tokens <= settings.max_tokens:
        return [(paragraph, tokens)]
    parts: list[tuple[Paragraph, int]] = []
    buffer: list[str] = []
    for sentence in paragraph.sentences:
        candidate = " ".join([*buffer, sentence])
        if buffer and count_tokens(candidate, settings.encoding) > settings.max_tokens:
            parts.append(_piece(paragraph, buffer, settings))
            buffer = []
        buffer.append(sentence)
    if buffer:
        parts.append(_piece(paragraph, buffer, settings))
    return [p for part in parts for p in _hard_split(part, settings)]


def _piece(paragraph: Paragraph, split: list[str], settings: ChunkSettings) -> tuple[Paragraph, int]:
    text = " ".join(split)
    return paragraph.model_copy(update={"text": text, "sentences": split}), count_tokens(text, settings.encoding)


def _hard_split(piece: tuple[Paragraph, int], settings: ChunkSettings) -> list[tuple[Paragraph, int]]:
    paragraph, tokens = piece
    if tokens <= settings.max_tokens:
        return [piece]
    # why: a single sentence over the limit (a table, a run-on) still has to fit.
    enc = get_encoding(settings.encoding)
    ids = enc.encode(paragraph.text, disallowed_special=())
    step = settings.max_tokens
    return [
        (paragraph.model_copy(update={"text": (part := enc.decode(ids[i : i + step])), "sentences": [part]}),
         len(ids[i : i + step]))
        for i in range(0, len(ids), step)
    ]


def _overlap(
    previous: list[tuple[Paragraph, int]], budget: int, room: int
) -> list[tuple[Paragraph, int]]:
    kept: list[tuple[Paragraph, int]] = []
    total = 0
    for piece in reversed(previous):
        if total + piece[1] > min(budget, room):
            break
        kept.insert(0, piece)
        total += piece[1]
    return kept


def _make_chunk(article_id: str, n: int, pieces: list[tuple[Paragraph, int]]) -> Chunk:
    return Chunk(
        id=f"{article_id}#{n}",
        article_id=article_id,
        paragraphs=[p for p, _ in pieces],
        tokens=sum(t for _, t in pieces),
    )
