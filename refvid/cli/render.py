"""``refvid generate``, ``refvid plan`` and ``refvid demo``: render without a server."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from refvid.cli.app import app
from refvid.cli.explain import explain
from refvid.engines import ENGINE_NAMES, get_engine
from refvid.errors import RefvidError
from refvid.generate import generate, make_plan
from refvid.references.load import CLI, load_references
from refvid.request import GenerationRequest, validation_message

err = Console(stderr=True)
out = Console()

DEMO_IMAGES = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")
DEMO_PROMPT = (
    "@1 the astronaut smiles at the camera, slow push in. "
    "Then a close-up of the coffee on the table (image 2). "
    "Cut to the cat, image 3, looking up, pan right. "
    "Finally back to the astronaut, pull back to reveal the rocket. Warm golden hour look."
)

Images = Annotated[list[str], typer.Option("--image", "-i", help="Reference image: path, URL or base64. 1-7.")]
Prompt = Annotated[str, typer.Option("--prompt", "-p", help="What happens: subjects, shots, camera, mood.")]
Aspect = Annotated[str, typer.Option("--aspect-ratio", "-a", help="16:9, 9:16 or 1:1.")]
Duration = Annotated[int, typer.Option("--duration", "-d", help="5 or 10 seconds.")]
Seed = Annotated[int, typer.Option("--seed", "-s", help="0-999999; 0 picks one and prints it.")]
Amplitude = Annotated[str, typer.Option("--movement-amplitude", "-m", help="auto, small, medium or large.")]
Bgm = Annotated[bool, typer.Option("--bgm/--no-bgm", help="Add background music fitted to the video.")]
Engine = Annotated[str, typer.Option("--engine", "-e", help=f"Engine: {', '.join(ENGINE_NAMES)}.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line naming what to change, and exit (2 = bad input)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def build_request(
    images: list[str], prompt: str, aspect_ratio: str, duration: int, seed: int, movement_amplitude: str, bgm: bool
) -> GenerationRequest:
    """Validate CLI flags through the same model the API uses; bad input exits with code 2."""
    try:
        return GenerationRequest(
            prompt=prompt,
            image_urls=images,
            aspect_ratio=aspect_ratio,  # type: ignore[arg-type]
            duration=duration,  # type: ignore[arg-type]
            seed=seed,
            bgm=bgm,
            movement_amplitude=movement_amplitude,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        fail(validation_message(error).replace("image_urls", "--image"))


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except RefvidError as error:
        fail(str(error).replace("image_urls", "--image"))


@app.command("generate")
def generate_command(
    images: Images,
    prompt: Prompt,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the MP4.")],
    aspect_ratio: Aspect = "16:9",
    duration: Duration = 5,
    seed: Seed = 0,
    movement_amplitude: Amplitude = "auto",
    bgm: Bgm = False,
    cover: Annotated[Path | None, typer.Option("--cover", help="Also write a JPEG cover here.")] = None,
    engine: Engine = "motion",
) -> None:
    """Render reference images and a prompt into an MP4."""
    request = build_request(images, prompt, aspect_ratio, duration, seed, movement_amplitude, bgm)
    _render(request, output, cover, engine)


def _render(request: GenerationRequest, output: Path, cover: Path | None, engine: str) -> None:
    if output.suffix.lower() != ".mp4":
        fail(f"--output: {output} should end in .mp4")
    if not output.parent.exists():
        fail(f"--output: folder {output.parent} does not exist; create it first")
    with _user_errors():
        request = request.with_seed()
        chosen = get_engine(engine)
        # A fresh process: the engine loads what planning needs while the references decode.
        warm_up = getattr(chosen, "warm_up", None)
        if callable(warm_up):
            warm_up()
        with _progress_bar(request.frame_count) as advance:
            # Loaded by generate, so nothing here keeps the full-size pictures through the render.
            result = generate(request, output, cover=cover, engine=chosen, policy=CLI, progress=advance)
    out.print(f"wrote [bold]{result.video_path}[/] ({result.width}x{result.height}, {result.frame_count} frames, "
              f"{result.duration:g} s{', music' if result.has_audio else ''}) in {result.seconds:.1f} s", highlight=False)
    if result.cover_path is not None:
        out.print(f"cover [bold]{result.cover_path}[/]", highlight=False)
    out.print(f"seed {result.seed}", highlight=False)


@contextmanager
def _progress_bar(frames: int) -> Iterator[Callable[[float], None]]:
    with Progress(
        TextColumn("rendering"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("render", total=frames)
        yield lambda fraction: bar.update(task, completed=round(fraction * frames))


@app.command("plan")
def plan_command(
    images: Images,
    prompt: Prompt,
    aspect_ratio: Aspect = "16:9",
    duration: Duration = 5,
    seed: Seed = 0,
    movement_amplitude: Amplitude = "auto",
    bgm: Bgm = False,
    engine: Engine = "motion",
    output_format: Annotated[
        str,
        typer.Option("--format", help="text (each shot explained), json, or auto: text on a terminal, JSON when piped."),
    ] = "auto",
) -> None:
    """Print the shot plan: per shot the reference and why, framing, move, transitions, grade, warnings."""
    if output_format not in ("auto", "text", "json"):
        raise typer.BadParameter(f"--format must be auto, text or json, not {output_format!r}")
    request = build_request(images, prompt, aspect_ratio, duration, seed, movement_amplitude, bgm)
    with _user_errors():
        request = request.with_seed()
        references = load_references(request.image_urls, CLI)
        plan = make_plan(request, references, get_engine(engine))
    if output_format == "text" or (output_format == "auto" and sys.stdout.isatty()):
        sys.stdout.write(explain(plan.to_dict()))
        return
    json.dump(plan.to_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")


@app.command("demo")
def demo_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the MP4.")] = Path("out/demo.mp4"),
    seed: Seed = 2024,
) -> None:
    """Render a 5-second demo from the bundled public-domain photos."""
    output.parent.mkdir(parents=True, exist_ok=True)
    images_dir = output.parent / "demo-references"
    images_dir.mkdir(exist_ok=True)
    images = []
    for name in DEMO_IMAGES:
        target = images_dir / name
        with resources.as_file(resources.files("refvid.demo") / name) as source:
            shutil.copyfile(source, target)
        images.append(str(target))
    out.print(f"references: {', '.join(images)}", highlight=False)
    out.print(f"prompt: {DEMO_PROMPT}", highlight=False)
    request = build_request(images, DEMO_PROMPT, "16:9", 5, seed, "auto", False)
    _render(request, output, output.with_suffix(".jpg"), "motion")
    out.print(f"play it: [bold]{output.resolve()}[/]", highlight=False)

