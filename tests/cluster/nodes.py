"""Machines in miniature: ``refvid serve`` and ``refvid worker`` as separate processes, each
with its own data folder, sharing one PostgreSQL database and one S3 bucket (moto).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ..api.process import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Node:
    """One ``refvid`` process (and its children, in a session of their own)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """A clean stop (SIGINT for serve, SIGTERM for worker): jobs in progress go back."""
        if self.process.poll() is None:
            self.ask_to_stop()
            self.wait_stopped()

    def ask_to_stop(self) -> None:
        """The signal of a clean stop, once (a second SIGINT makes uvicorn quit at once)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if self.url else signal.SIGTERM)

    def wait_stopped(self) -> None:
        """Wait for the clean stop; kill the process group if it takes longer than 30 s."""
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """The machine dies: SIGKILL to the process and all its children."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    """The shared settings of every node, and the nodes started so far."""

    root: Path
    env: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    def _start(self, name: str, args: list[str], port: int | None = None) -> Node:
        home = self.root / name
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFVID_")}
        env.update(self.env, REFVID_HOME=str(home), PYTHONPATH=str(ROOT))
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "refvid.cli", *args], env=env, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True,
            )
        node = Node(name, process, log, url=f"http://127.0.0.1:{port}" if port else "")
        self.nodes.append(node)
        return node

    def api(self, name: str, *extra: str, ready: bool = True) -> Node:
        """``refvid serve`` (API only unless told otherwise); returns once it answers (``ready``)."""
        port = free_port()
        node = self._start(name, ["serve", "--host", "127.0.0.1", "--port", str(port), *extra], port)
        return self.ready(node) if ready else node

    def ready(self, node: Node) -> Node:
        """Wait until an API node answers ``/healthz`` (90 s at most)."""
        name = node.name
        deadline = time.monotonic() + 90
        while True:
            if node.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {node.tail()}")
            try:
                if requests.get(f"{node.url}/healthz", timeout=2).status_code == 200:
                    return node
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {node.tail()}")
            time.sleep(0.2)

    def worker(self, name: str, slots: int = 1) -> Node:
        """``refvid worker --slots N`` (no GPUs here: CUDA_VISIBLE_DEVICES is empty)."""
        return self._start(name, ["worker", "--slots", str(slots)])

    def stop(self) -> None:
        """Stop every node, all at once: the signals first, then the waits."""
        for node in self.nodes:
            node.ask_to_stop()
        for node in self.nodes:
            node.wait_stopped()
