"""Where the program's own files are. Prompts (the top-level `prompts` package) and data
(`service/data`, `service/migrations`) ship inside the wheel and are found through
importlib.resources, never relative to a checkout, so `pip install .` gives a program that
can brief."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from service.errors import ConfigError


def package_path(package: str, *parts: str) -> Path:
    """A file or folder shipped inside an installed package, as a real path (onnxruntime and
    Alembic need one)."""
    root = files(package)
    if not isinstance(root, Path):
        raise ConfigError(f"package {package} is installed zipped ({root}); install it unpacked")
    return root.joinpath(*parts)


PROMPTS_DIR = package_path("prompts")
DATA_DIR = package_path("service", "data")
MIGRATIONS_DIR = package_path("service", "migrations")
