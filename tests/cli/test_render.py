"""The CLI as a user runs it: real processes, real files, decoded outputs, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from refvid.cli import app
from refvid.media.probe import probe

runner = CliRunner()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refvid.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
@pytest.mark.parametrize("duration", [5, 10])
def test_generate_every_size_and_length(tmp_path: Path, demo_paths: list[Path], aspect: str, duration: int) -> None:
    out = tmp_path / "v.mp4"
    cover = tmp_path / "v.jpg"
    args = ["generate", "-p", "The astronaut, then the coffee, then the cat", "-o", str(out), "--cover", str(cover),
            "--aspect-ratio", aspect, "--duration", str(duration), "--seed", "77"]
    for path in demo_paths:
        args += ["-i", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "seed 77" in result.output
    info = probe(out)
    width, height = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}[aspect]
    assert (info.width, info.height) == (width, height)
    assert info.frame_count == duration * 24 and info.fps == 24.0
    assert info.codec == "h264" and info.profile == "High" and info.pix_fmt == "yuv420p"
    assert info.colorspace == 1 and info.faststart and not info.has_audio
    with Image.open(cover) as image:
        assert image.format == "JPEG" and image.size == (width, height)


@pytest.mark.slow
def test_real_process_prints_the_chosen_seed(tmp_path: Path, demo_paths: list[Path]) -> None:
    out = tmp_path / "s.mp4"
    done = cli("generate", "-i", str(demo_paths[2]), "-p", "A cat", "-o", str(out), "--aspect-ratio", "1:1")
    assert done.returncode == 0, done.stderr
    seed = int(done.stdout.strip().splitlines()[-1].removeprefix("seed "))
    assert 1 <= seed <= 999_999
    assert probe(out).frame_count == 120


def test_plan_prints_json(demo_paths: list[Path]) -> None:
    result = runner.invoke(app, ["plan", "-i", str(demo_paths[0]), "-i", str(demo_paths[1]),
                                 "-p", "@2 steams, then image 1 smiles", "--seed", "5"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["seed"] == 5 and plan["frame_count"] == 120
    assert [s["image"] for s in plan["shots"]] == [2, 1]
    assert "not a generative model" in plan["note"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--aspect-ratio", "4:3"], "aspect_ratio: must be '16:9', '9:16' or '1:1'"),
        (["--duration", "7"], "duration: must be 5 or 10"),
        (["--seed", "1000000"], "seed: Input should be less than or equal to 999999"),
        (["--movement-amplitude", "wild"], "movement_amplitude: must be"),
        (["-p", "x" * 1501], "prompt: String should have at most 1500 characters"),
        (["-p", "   "], "prompt: Value error, prompt must contain text"),
        (["-o", "video.mov"], "--output: video.mov should end in .mp4"),
        (["-o", "/no/such/dir/v.mp4"], "--output: folder /no/such/dir does not exist"),
        (["--engine", "dream"], "unknown engine 'dream'"),
        (["-i", "missing.jpg"], "--image[1]: no such file"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path: Path, demo_paths: list[Path], change: list[str], message: str) -> None:
    args = {"-i": str(demo_paths[0]), "-p": "A portrait", "-o": str(tmp_path / "v.mp4")}
    extra = []
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args and flag != "-i":
            args[flag] = value
        else:
            extra += [flag, value]
    argv = ["generate", *[x for kv in args.items() for x in kv], *extra]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "v.mp4").exists()


def test_too_many_images(tmp_path: Path, demo_paths: list[Path]) -> None:
    argv = ["generate", "-p", "crowd", "-o", str(tmp_path / "v.mp4")]
    for i in range(8):
        argv += ["-i", str(demo_paths[i % 3])]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and "--image: List should have at most 7 items" in result.output


def test_small_image_is_named_by_index(tmp_path: Path, demo_paths: list[Path]) -> None:
    small = tmp_path / "small.png"
    Image.new("RGB", (100, 300), "red").save(small)
    result = runner.invoke(app, ["generate", "-i", str(demo_paths[0]), "-i", str(small), "-p", "x", "-o", str(tmp_path / "v.mp4")])
    assert result.exit_code == 2
    assert "--image[1]" in result.output and "128" in result.output


def test_plan_explains_each_shot_in_text(demo_paths: list[Path]) -> None:
    args = ["plan", "-p", "A story of a summer trip. The cat sleeps at night, slow push in, then pan right. "
            "Then the astronaut smiles. Whip pans between shots. Fade to black.", "--seed", "4", "--format", "text"]
    for path in demo_paths:
        args += ["-i", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "shot 1" in text and "image 3" in text and "('cat')" in text
    assert "push in, then pan right (travels" in text
    assert "in / out:   whip / fade to black" in text
    assert "grade:      cool" in text
    assert "A story of a summer trip" in text.splitlines()[2]


def test_plan_text_shows_a_composites_layers_and_life(demo_paths: list[Path]) -> None:
    args = ["plan", "-p", "The astronaut from image 1 stands at the table of image 2, slow push in.", "--seed", "4",
            "--format", "text"]
    for path in demo_paths:
        args += ["-i", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("shot 1 ") and line.endswith("image 1 in the scene of image 2") for line in lines)
    assert any(line.startswith("  layers:     image 1 at (") and "placed into the scene of image 2" in line for line in lines)
    assert any(line.startswith("  life:       head sway up to") for line in lines)


def test_plan_format_is_checked(demo_paths: list[Path]) -> None:
    result = runner.invoke(app, ["plan", "-i", str(demo_paths[0]), "-p", "x", "--format", "yaml"])
    assert result.exit_code != 0 and "--format" in result.output


def test_the_cli_starts_without_what_only_downloads_servers_and_encoding_need() -> None:
    # `refvid generate` from local files never downloads and encodes only after planning:
    # httpx, asyncio, PyAV, the settings and SQLAlchemy (0.1-0.5 s together) are imported
    # when first used, not when the CLI starts.
    code = ("import sys, refvid.cli; print(' '.join(m for m in ('httpx', 'asyncio', 'av', 'pydantic_settings', "
            "'refvid.config', 'sqlalchemy', 'scipy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.split() == []
