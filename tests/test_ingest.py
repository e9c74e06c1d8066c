"""Ingest: every input format, stable ids, and a clear reason for every skipped input."""

from __future__ import annotations

import json
from pathlib import Path

from service.clean import quality_flags
from service.encoding import decode
from service.ingest import ingest_paths
from service.models import Article
from tests.conftest import EXAMPLES

BODY = "The council approved the budget on Monday.\nIt funds two schools, officials said."


def test_plain_text_folder_reads_all_examples_without_titles() -> None:
    result = ingest_paths([EXAMPLES])
    assert len(result.articles) == 4 and not result.skipped
    # their first lines are full sentences, not titles
    assert all(a.title is None for a in result.articles)
    assert result.articles[0].origin.endswith("000_337dc3b85a9c6a45.txt")


def test_ids_are_stable_and_content_based(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY)
    (tmp_path / "b.txt").write_text(BODY.replace(" ", "  ") + "\n")
    result = ingest_paths([tmp_path])
    assert len(result.articles) == 1
    assert result.articles[0].id == Article.make_id(BODY)
    assert result.skipped[0].reason.startswith("duplicate of")


def test_short_first_line_without_full_stop_is_a_title(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Council passes budget\n" + BODY)
    article = ingest_paths([path]).articles[0]
    assert article.title == "Council passes budget"
    assert article.text.startswith("The council")


def test_markdown_heading_becomes_title_and_markup_goes(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text("# Council passes budget\n\nThe **council** approved [the budget](http://x).\n")
    article = ingest_paths([path]).articles[0]
    assert article.title == "Council passes budget"
    assert article.text == "The council approved the budget."


def test_json_object_list_and_articles_key(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"text": BODY, "title": "T", "source": "Wire", "published": "2024-11-18"}))
    many = tmp_path / "many.json"
    many.write_text(json.dumps({"articles": [{"text": "First story text here."}, {"text": "Second one."}]}))
    result = ingest_paths([one, many])
    assert [a.title for a in result.articles] == ["T", None, None]
    assert result.articles[0].source == "Wire"
    assert result.articles[0].published is not None and result.articles[0].published.year == 2024


def test_jsonl_bad_lines_are_skipped_by_line_number_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps({"text": "Good story one."}) + "\n"
        + "{not json\n"
        + json.dumps({"title": "no text"}) + "\n"
        + json.dumps({"text": "Good story two.", "published": "yesterday-ish"}) + "\n"
        + json.dumps({"text": "Good story three."}) + "\n"
    )
    result = ingest_paths([path])
    assert [a.text for a in result.articles] == ["Good story one.", "Good story three."]
    reasons = {s.origin: s.reason for s in result.skipped}
    assert reasons[f"{path}:2"].startswith("invalid JSON")
    assert reasons[f"{path}:3"] == "field 'text' is missing or empty"
    assert "published" in reasons[f"{path}:4"]


def test_html_main_text_is_extracted(tmp_path: Path) -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the story says the council approved the budget for schools and roads.</p>"
        for i in range(1, 6)
    )
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Budget passes</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>Budget passes</h1>{paragraphs}</article>"
        "<footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"
    )
    article = ingest_paths([path]).articles[0]
    assert "Paragraph 1 of the story" in article.text and "Paragraph 5" in article.text
    assert "Sport" not in article.text and "rights reserved" not in article.text
    assert article.title == "Budget passes"


def test_bad_inputs_are_skipped_with_a_reason_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "good.txt").write_text(BODY)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    missing = tmp_path / "missing.txt"
    result = ingest_paths([tmp_path, missing, tmp_path / "notes.pdf"])
    reasons = {Path(s.origin).name: s.reason for s in result.skipped}
    assert reasons == {
        "binary.txt": "binary file, not text",
        "empty.txt": "file is empty",
        "latin1.txt": "not valid utf-8 and its real encoding cannot be told",  # too short to tell
        "missing.txt": "no such file or directory",
        "notes.pdf": "unsupported file type '.pdf'",
    }
    assert [a.text for a in result.articles] == [BODY]


def test_text_in_another_encoding_is_read_right_and_utf8_is_never_decoded_again(tmp_path: Path) -> None:
    french = "Le café de la gare a réouvert lundi après des travaux, a déclaré le maire de Lyon. " * 3
    (tmp_path / "cp1252.txt").write_bytes(french.encode("cp1252"))
    japanese = "東京で震度５弱の地震があった。気象庁によると、けが人は報告されていない。" * 4
    (tmp_path / "sjis.txt").write_bytes(japanese.encode("shift_jis"))
    # valid UTF-8 whose text was garbled upstream, as public news data has it: repaired, never re-read
    # as shift_jis ("Sinn Fﾃδｩin"), and the real non-ASCII letters beside it kept
    irish = "Sinn Féin’s leader told Dáil Éireann on Tuesday that the party would contest every seat. " * 3
    garbled = irish.encode("utf-8").decode("cp1252").replace("Dáil Éireann", "Dáil Éireann".encode().decode())
    (tmp_path / "mojibake.txt").write_bytes(garbled.encode("utf-8"))
    result = ingest_paths([tmp_path])
    texts = {Path(a.origin).name: a.text for a in result.articles}
    assert texts["cp1252.txt"].strip() == french.strip() and texts["sjis.txt"].strip() == japanese.strip()
    assert "FÃ©in" in garbled and texts["mojibake.txt"].strip() == irish.strip()
    assert result.skipped == []


def test_mojibake_beyond_repair_is_flagged_never_refused_or_made_worse() -> None:
    lost = "The minister’s visit drew “strong” reactions in Dublin, officials said on Monday. " * 3
    # the closing quote's last byte was dropped on the way: that sequence cannot be undone
    data = lost.encode("utf-8").decode("cp1252", errors="ignore").encode("utf-8")
    decoded = decode(data, "feed")
    assert decoded.repaired >= 6 and "minister’s" in decoded.text and "“strong" in decoded.text
    assert "Ã" not in decoded.text and decoded.note() is not None and "repaired" in decoded.note()  # type: ignore[operator]
    spoiled = "The minister said the visit went well. " * 2 + "Critics called it â€ a stunt â€ and Ã© worse. "
    assert [f.kind for f in quality_flags(spoiled)] == ["mis-encoded"]
    assert quality_flags(lost) == []
