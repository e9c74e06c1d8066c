"""Read files and folders of articles (.txt, .md, .json, .jsonl, .html) into Articles."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from service.encoding import decode
from service.errors import InputError
from service.models import Article, Skipped

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES | HTML_SUFFIXES
ARTICLE_FIELDS = ("id", "title", "source", "url", "published")
_TITLE_MAX_WORDS = 20

log = logging.getLogger(__name__)


class IngestResult(BaseModel):
    """Articles read, and inputs that were skipped with the reason."""

    articles: list[Article] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)


def ingest_paths(paths: Iterable[str | Path]) -> IngestResult:
    """Read every article under the given files and folders; skip bad inputs with a reason."""
    result = IngestResult()
    seen: dict[str, str] = {}
    for path in _expand(paths, result):
        try:
            articles = list(_read_file(path, result))
        except InputError as err:
            result.skipped.append(Skipped(origin=err.origin, reason=err.reason))
            continue
        for article in articles:
            if article.id in seen:
                reason = f"duplicate of {seen[article.id]}"
                result.skipped.append(Skipped(origin=article.origin, reason=reason))
                continue
            seen[article.id] = article.origin
            result.articles.append(article)
    return result


def article_from_record(record: dict[str, Any], origin: str) -> Article:
    """Build an Article from a JSON-like record with `text` and optional metadata."""
    if not isinstance(record, dict):
        raise InputError(origin, "expected a JSON object with a 'text' field")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(origin, "field 'text' is missing or empty")
    fields = {k: record[k] for k in ARTICLE_FIELDS if record.get(k) not in (None, "")}
    fields["id"] = str(fields.get("id") or Article.make_id(text))
    try:
        return Article(text=_normalise(text), origin=origin, **fields)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        raise InputError(origin, f"field '{field}': {first['msg']}") from None


def _expand(paths: Iterable[str | Path], result: IngestResult) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not files:
                result.skipped.append(Skipped(origin=str(path), reason="folder has no article files"))
            yield from files
        elif path.is_file():
            yield path
        else:
            result.skipped.append(Skipped(origin=str(path), reason="no such file or directory"))


def _read_text(path: Path) -> str:
    origin = str(path)
    data = path.read_bytes()
    if not data.strip():
        raise InputError(origin, "file is empty")
    if b"\x00" in data[:8192]:
        raise InputError(origin, "binary file, not text")
    decoded = decode(data, origin)
    if note := decoded.note():
        log.warning("%s: %s", origin, note)
    return decoded.text


def _read_file(path: Path, result: IngestResult) -> Iterator[Article]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(str(path), f"unsupported file type '{suffix or path.name}'")
    text = _read_text(path)
    if suffix in TEXT_SUFFIXES:
        yield _article_from_plain(text, str(path), markdown=suffix != ".txt")
    elif suffix in HTML_SUFFIXES:
        yield _article_from_html(text, str(path))
    elif suffix == ".json":
        yield from _articles_from_json(text, str(path), result)
    else:
        yield from _articles_from_jsonl(text, str(path), result)


def _article_from_plain(text: str, origin: str, *, markdown: bool) -> Article:
    meta, text = _front_matter(text)
    if markdown:
        text = _strip_markdown(text)
    lines = [line.strip() for line in _normalise(text).split("\n")]
    title = None
    body_lines = lines
    first = lines[0] if lines else ""
    if len(lines) > 1 and _looks_like_title(first):
        title, body_lines = first.lstrip("# ").strip(), lines[1:]
    body = "\n".join(body_lines).strip()
    if not body:
        raise InputError(origin, "no article text after the title")
    if meta:
        return article_from_record({"title": title, **meta, "text": body}, origin)
    return Article(id=Article.make_id(body), text=body, title=title, origin=origin)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a leading '---' block of 'key: value' lines (title, source, url, published) from the text."""
    match = re.match(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", text, re.DOTALL)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ARTICLE_FIELDS:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end():]


def _articles_from_json(text: str, origin: str, result: IngestResult) -> Iterator[Article]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(origin, f"invalid JSON at line {err.lineno}: {err.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    for n, record in enumerate(records, 1):
        where = f"{origin}[{n}]" if isinstance(data, list) else origin
        try:
            yield article_from_record(record, where)
        except InputError as err:
            result.skipped.append(Skipped(origin=err.origin, reason=err.reason))


def _articles_from_jsonl(text: str, origin: str, result: IngestResult) -> Iterator[Article]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{origin}:{lineno}"
        try:
            yield article_from_record(json.loads(line), where)
        except json.JSONDecodeError as err:
            result.skipped.append(Skipped(origin=where, reason=f"invalid JSON: {err.msg}"))
        except InputError as err:
            result.skipped.append(Skipped(origin=err.origin, reason=err.reason))


def _article_from_html(html: str, origin: str) -> Article:
    import trafilatura  # why: heavy import, only paid when HTML is ingested

    body = trafilatura.extract(html, include_comments=False, include_tables=False)
    if not body or not body.strip():
        raise InputError(origin, "no article text found in the HTML")
    meta = trafilatura.extract_metadata(html)
    record: dict[str, Any] = {"text": body}
    if meta is not None:
        record.update(title=meta.title, source=meta.sitename, url=meta.url, published=meta.date)
    return article_from_record(record, origin)


def _looks_like_title(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= _TITLE_MAX_WORDS and not re.search(r"[.!?:;,\"”’)]$", line)


def _strip_markdown(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|`)(\S.*?\S|\S)\1", r"\2", text)
    return re.sub(r"^#{2,6}\s+", "", text, flags=re.MULTILINE)


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()
