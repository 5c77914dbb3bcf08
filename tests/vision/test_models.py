"""Model files: checked by SHA-256, installed from the wheel, a clear error when missing."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from refvid.vision import models


def test_every_model_is_installed_and_matches_its_checksum() -> None:
    assert models.missing_models() == [], "run make models"


def test_a_missing_model_names_the_command_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFVID_MODEL_DIR", str(tmp_path))
    with pytest.raises(models.ModelMissing, match="make models"):
        models.model_path("face_landmark.tflite")
    assert set(models.missing_models()) == set(models.MODELS)


def test_an_altered_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFVID_MODEL_DIR", str(tmp_path))
    (tmp_path / "face_landmark.tflite").write_bytes(b"not the model")
    with pytest.raises(models.ModelMissing, match=r"checksum.*make models"):
        models.model_path("face_landmark.tflite")


def _wheel(path: Path, replace: dict[str, bytes] | None = None) -> Path:
    """A wheel-shaped zip holding the installed model files at their places in mediapipe's wheel."""
    with zipfile.ZipFile(path, "w") as zipped:
        for model in models.MODELS.values():
            data = (replace or {}).get(model.name) or models.model_path(model.name).read_bytes()
            zipped.writestr(model.member, data)
    return path


def test_install_extracts_only_the_checked_files(tmp_path: Path) -> None:
    target = tmp_path / "models"
    paths = models.install_models(target, wheel=_wheel(tmp_path / "mediapipe.whl"))
    assert sorted(p.name for p in target.iterdir()) == sorted(models.MODELS)
    for path in paths:
        assert path.read_bytes() == models.model_path(path.name).read_bytes()


def test_install_refuses_a_wheel_with_other_files(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "mediapipe.whl", {"selfie_segmentation.tflite": b"tampered"})
    with pytest.raises(models.ModelMissing, match="unexpected SHA-256"):
        models.install_models(tmp_path / "models", wheel=wheel)
    assert not (tmp_path / "models" / "selfie_segmentation.tflite").exists()


def test_a_model_runs_and_gives_the_same_answer_twice() -> None:
    model = models.load("selfie_segmentation.tflite")
    assert model.input_size == (256, 256)
    tensor = np.random.default_rng(1).random((256, 256, 3), np.float32)
    first, second = model.run(tensor), model.run(tensor)
    assert first[0].shape == (256, 256, 1)
    assert np.array_equal(first[0], second[0])


def test_a_model_loaded_again_after_unload_gives_the_same_answer() -> None:
    tensor = np.random.default_rng(2).random((256, 256, 3), np.float32)
    first = models.load("selfie_segmentation.tflite")
    before = first.run(tensor)
    models.unload()
    again = models.load("selfie_segmentation.tflite")
    assert again is not first
    assert np.array_equal(again.run(tensor)[0], before[0])
    assert np.array_equal(first.run(tensor)[0], before[0])  # a holder of the old one can still run it


def test_loading_a_model_keeps_tflites_notice_off_stderr_and_nothing_else() -> None:
    # A fresh process: the notice comes from C++ on fd 2 when the first interpreter allocates.
    script = (
        "import os, sys\n"
        "from refvid.vision import models\n"
        "with models._without_tflite_notice():\n"
        "    os.write(2, b'other line\\n')\n"
        f"models.load({next(iter(models.MODELS))!r})\n"
        "print('loaded', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert models.TFLITE_NOTICE not in done.stderr
    assert done.stderr.splitlines() == ["other line", "loaded"]
