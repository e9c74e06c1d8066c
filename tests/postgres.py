"""A throwaway PostgreSQL server for the tests (Debian's postgresql package), on loopback."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.local_llm import free_port


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def available() -> bool:
    """Tell whether initdb and pg_ctl are installed."""
    return bool(_binary("initdb") and _binary("pg_ctl"))


@contextmanager
def server() -> Iterator[str]:
    """Start a fresh cluster with trust auth on a free port; yield its admin URL; stop and delete it."""
    folder = Path(tempfile.mkdtemp(prefix="briefing-pg-"))
    data = folder / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # why: initdb refuses to run as root
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = [*as_user, str(_binary("initdb")), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    subprocess.run(run, check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [*as_user, str(_binary("pg_ctl")), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"]
    subprocess.run([*ctl, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(admin_url: str) -> str:
    """Create an empty database and return its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    for _ in range(20):
        try:
            with psycopg.connect(plain, autocommit=True) as connection:
                connection.execute(f"CREATE DATABASE {name}")
            return f"{admin_url}/{name}"
        except psycopg.OperationalError:
            time.sleep(0.25)
    raise RuntimeError("PostgreSQL did not accept connections")
