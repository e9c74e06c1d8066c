"""A client generated from the OpenAPI spec by a maintained generator (datamodel-code-generator) reads
a briefing and a digest: the spec names every shape a client needs. LLM replies are replayed from the
cassettes the API and digest tests record."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from fastapi.testclient import TestClient
from sqlalchemy import update

from service.api.app import create_app
from service.ingest import ingest_paths
from service.llm import build_chat_model
from service.storage import Store
from service.storage.tables import DigestRow
from tests.conftest import EXAMPLES, REPLAY_URL, cassette, make_settings
from tests.test_api import KEY, SHORT
from tests.test_digest import DAY


def _generated(spec: dict[str, object], folder: Path) -> ModuleType:
    """Generate pydantic models from the spec with datamodel-codegen; import them."""
    (folder / "openapi.json").write_text(json.dumps(spec))
    subprocess.run([sys.executable, "-m", "datamodel_code_generator", "--input", str(folder / "openapi.json"),
                    "--input-file-type", "openapi", "--output-model-type", "pydantic_v2.BaseModel",
                    "--output", str(folder / "briefing_client.py")], check=True, capture_output=True)
    spec_of = importlib.util.spec_from_file_location("briefing_client", folder / "briefing_client.py")
    assert spec_of is not None and spec_of.loader is not None
    module = importlib.util.module_from_spec(spec_of)
    sys.modules["briefing_client"] = module  # pydantic resolves the models' references through it
    spec_of.loader.exec_module(module)
    return module


def test_a_client_generated_from_the_spec_reads_a_briefing_and_a_digest(tmp_path: Path) -> None:
    settings = make_settings(api_keys="k1", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    settings.digest.output_dir = str(tmp_path / "out")
    app = create_app(settings, model=build_chat_model(settings.llm, REPLAY_URL), inline_jobs=True)
    with TestClient(app) as http:
        spec = http.get("/openapi.json").json()
        client = _generated(spec, tmp_path)
        with cassette("test_api/small", "none"):
            made = http.post("/v1/briefings", json={"articles": [{"text": SHORT, "title": "Budget"}]}, headers=KEY)
        job = client.BriefingOut.model_validate(made.json())
        read = client.BriefingOut.model_validate(http.get(f"/v1/briefings/{job.id}").json())
        listed = client.PageBriefingJob.model_validate(http.get("/v1/briefings").json())
        noon = f"{DAY}T12:00:00Z"
        articles = [{"text": a.text, "published": noon} for a in ingest_paths([EXAMPLES]).articles]
        assert http.post("/v1/articles", json={"articles": articles}, headers=KEY).status_code == 201
        store: Store = app.state.store
        store.digests.request(DAY)
        with store.db.sessions.begin() as session:  # as test_digests_over_http does before its run
            session.execute(update(DigestRow).values(status="failed"))
        with cassette("test_digest/http", "none"):
            ran = client.DigestJob.model_validate(http.post(f"/v1/digests/{DAY}/run", headers=KEY).json())
        digest = client.Digest.model_validate(http.get(ran.location).json())
        digests = client.PageDigestSummary.model_validate(http.get("/v1/digests").json())
    assert read.status.value == "done" and read.briefing is not None
    assert [p.text for p in read.briefing.key_points] == [p["text"] for p in made.json()["briefing"]["key_points"]]
    assert read.briefing.key_points[0].sources[0] == read.briefing.sources[0].id
    assert listed.items[0].id == job.id and listed.total == 1
    assert digest.status.value == "done" and len(digest.stories) == 2
    top = digest.stories[0]
    assert top.briefing is not None and top.briefing.key_points and top.disagreements[0].about == "ATACMS range"
    assert digests.items[0].stories == 2 and digests.items[0].date == DAY
