"""Recorded LLM traffic (vcrpy): one configuration for the eval runner and the test suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vcr

# why: the embedded server takes a new port each run, so the URI cannot be part of a match.
MATCH_ON = ["method", "path", "json_body"]
FILTER_HEADERS = ["authorization", "x-api-key", "openai-organization"]


def json_body(r1: Any, r2: Any) -> None:
    """Match request bodies as JSON, so key order and whitespace do not matter."""
    def parse(body: Any) -> Any:
        if isinstance(body, bytes):
            body = body.decode()
        try:
            return json.loads(body) if body else None
        except ValueError:
            return body

    assert parse(r1.body) == parse(r2.body), "request bodies differ"


def configure(recorder: vcr.VCR) -> vcr.VCR:
    """Register the JSON body matcher on a VCR."""
    recorder.register_matcher("json_body", json_body)
    return recorder


def vcr_options() -> dict[str, Any]:
    """Options shared by every recording."""
    return {"match_on": MATCH_ON, "filter_headers": FILTER_HEADERS, "decode_compressed_response": True}


@contextmanager
def cassette(path: Path, record_mode: str) -> Iterator[Any]:
    """Replay (record_mode 'none') or record ('rewrite' starts afresh) the LLM calls at `path`."""
    if record_mode == "rewrite":
        path.unlink(missing_ok=True)
        record_mode = "new_episodes"
    path.parent.mkdir(parents=True, exist_ok=True)
    recorder = configure(vcr.VCR(record_mode=record_mode, **vcr_options()))
    with recorder.use_cassette(str(path)) as tape:
        yield tape
