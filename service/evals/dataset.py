"""Eval datasets: cases of articles with expectations, and the gate thresholds, from YAML."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.errors import ConfigError
from service.ingest import ingest_paths
from service.models import Article

ROOT = Path(__file__).resolve().parents[2]


class Disputed(BaseModel):
    """A known disagreement between sources: what it is about and the values given."""

    model_config = ConfigDict(extra="forbid")

    about: str
    values: list[str]


class Expectations(BaseModel):
    """What a good briefing of the case must and must not contain."""

    model_config = ConfigDict(extra="forbid")

    must_include: list[str] = Field(default_factory=list, description="Regexes, case-insensitive.")
    must_not_include: list[str] = Field(default_factory=list, description="Regexes, case-insensitive.")
    stories: int | None = None
    disagreements: list[Disputed] = Field(default_factory=list)


class InlineArticle(BaseModel):
    """An article written into the dataset file."""

    model_config = ConfigDict(extra="forbid")

    text: str
    title: str | None = None
    source: str | None = None
    published: datetime | None = None


class ArticleFile(BaseModel):
    """An article read from a file (a path relative to the repository), with the publication date the
    file does not carry, as a feed or `briefing ingest --date` would give it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    published: datetime


class Case(BaseModel):
    """One eval case: its articles (paths relative to the repository, dated files, or inline) and
    expectations."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    articles: list[str | ArticleFile | InlineArticle]
    expect: Expectations = Field(default_factory=Expectations)

    def load_articles(self) -> list[Article]:
        """Read the case's articles, in the order listed."""
        loaded: list[Article] = []
        for n, entry in enumerate(self.articles):
            if isinstance(entry, InlineArticle):
                loaded.append(Article(id=Article.make_id(entry.text), text=entry.text, title=entry.title,
                                      source=entry.source, published=entry.published, origin=f"{self.id}#{n}"))
                continue
            result = ingest_paths([ROOT / (entry if isinstance(entry, str) else entry.path)])
            if result.skipped:
                raise ConfigError(f"case {self.id}: {result.skipped[0].origin}: {result.skipped[0].reason}")
            dated = {"published": entry.published} if isinstance(entry, ArticleFile) else {}
            loaded += [a.model_copy(update=dated) for a in result.articles]
        return loaded


class Threshold(BaseModel):
    """A gate on one metric's mean over the cases."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None

    def fails(self, value: float) -> bool:
        """Tell whether a value breaks the gate."""
        return (self.min is not None and value < self.min) or (self.max is not None and value > self.max)


class Dataset(BaseModel):
    """A named set of cases and the thresholds a run must meet."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    cases: list[Case]
    folder: Path = Field(default=ROOT, exclude=True)
    digest: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> Dataset:
        ids = [c.id for c in self.cases]
        if len(ids) != len(set(ids)):
            raise ValueError("case ids must be unique")
        return self

    @property
    def cassettes(self) -> Path:
        """Return the folder holding this dataset's recorded LLM responses."""
        return self.folder / "cassettes"


def load_dataset(path: str | Path) -> Dataset:
    """Load evals/datasets/NAME (a folder with dataset.yaml, or a .yaml file)."""
    path = Path(path)
    file = path / "dataset.yaml" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"--dataset: no dataset at {path} (expected a folder with dataset.yaml)")
    raw = file.read_bytes()
    try:
        data = yaml.safe_load(raw)
        dataset = Dataset.model_validate(data)
    except (yaml.YAMLError, ValidationError) as err:
        raise ConfigError(f"{file}: {err}") from None
    dataset.folder = file.parent
    dataset.digest = hashlib.sha256(raw).hexdigest()[:12]
    return dataset
