"""The pages' template environment: autoescaped Jinja2 with the same wording the Markdown uses
(service/render.py), and the headers every page is sent with."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from service import render
from service.models import Briefing
from service.pages.views import cited_sentences, one_line

# why: pages run no script and load nothing from elsewhere; whatever an article smuggles in stays text
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _safe_url(url: str | None) -> bool:
    """Only a web address becomes a link: a feed's `javascript:` or `data:` URL stays unlinked text."""
    return bool(url) and urlsplit(url or "").scheme in ("http", "https")


def _source_names(briefing: Briefing) -> dict[str, str]:
    return {s.id: render.source_name(s) for s in briefing.sources}


def _source_name_of(source_id: str, names: dict[str, str]) -> str:
    return names.get(source_id, source_id)


def environment() -> Environment:
    """The templates, autoescaped, failing loudly on a name they do not know."""
    env = Environment(loader=PackageLoader("service.pages", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    filters: dict[str, Any] = {
        "plural": render.count, "safe_url": _safe_url, "source_names": _source_names, "refs": render.refs,
        "source_name_of": _source_name_of, "source_name": render.source_name, "source_numbers": render.source_numbers,
        "evidence_note": render.evidence_note, "when_line": render.when_line, "placed_timeline": render.placed_timeline,
        "timeline_date": render.timeline_date, "cited_sentences": cited_sentences, "one_line": one_line,
    }
    env.filters.update(filters)
    return env
