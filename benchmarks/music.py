"""Cost of background music: plan + synthesise + master 10 s vs the whole 10 s render without it.

Run: .venv/bin/python benchmarks/music.py [--repeat 3]
Renders a 10 s 1080p video from the three bundled demo photos with ``bgm`` off, then times
the music for the same plan (same prompt, seed and cut times) in the same process, first
call included (wavetables are built lazily). Prints medians, a stage breakdown and the
ratio; the target is under 10%.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path

from refvid.audio import plan_music, render_music
from refvid.audio.master import master
from refvid.audio.mix import mix
from refvid.audio.score import compose
from refvid.generate import generate
from refvid.references.load import CLI, load_references
from refvid.request import GenerationRequest

PROMPTS = (
    "A happy, sunny afternoon: the astronaut, then the coffee, then the cat",
    "A calm, soft morning: the astronaut, then the coffee, then the cat",
    "An epic, dramatic night: the astronaut, then the coffee, then the cat",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    photos = [
        str(resources.files("refvid.demo") / n)
        for n in ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")
    ]
    references = load_references(photos, CLI)
    renders: list[float] = []
    cut_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            request = GenerationRequest(
                prompt=PROMPTS[0], image_urls=photos, duration=10, seed=1234
            )
            started = time.perf_counter()
            result = generate(request, Path(tmp) / f"v{i}.mp4", references=references)
            renders.append(time.perf_counter() - started)
            cut_times = list(result.plan["cut_times"])
    render_s = statistics.median(renders)

    print(
        f"whole render, 10 s 1080p 16:9, 3 references, bgm off: median {render_s:.2f} s of {renders}"
    )
    print(f"cut times: {cut_times}")
    worst = 0.0
    for prompt in PROMPTS:
        times: list[float] = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            plan = plan_music(prompt, 1234, 10.0, cut_times)
            render_music(plan)
            times.append(time.perf_counter() - started)
        t0 = time.perf_counter()
        score = compose(plan)
        t1 = time.perf_counter()
        raw = mix(plan)  # composes again inside; subtract the score time for the synth+mix share
        t2 = time.perf_counter()
        master(raw, plan.fade_in, plan.fade_out)
        t3 = time.perf_counter()
        music_s = statistics.median(times)
        worst = max(worst, music_s)
        print(
            f"music {plan.mood:>10} {plan.tempo_bpm} bpm {plan.key:<14} "
            f"first {times[0] * 1000:.0f} ms, median {music_s * 1000:.0f} ms "
            f"(compose {1000 * (t1 - t0):.0f}, synth+mix {1000 * (t2 - t1 - (t1 - t0)):.0f}, "
            f"master {1000 * (t3 - t2):.0f} ms; {len(score.hits)} hits, "
            f"{len(score.chords) + len(score.bass) + len(score.arp) + len(score.lead)} notes) "
            f"-> {100 * music_s / render_s:.1f}% of the render"
        )
    print(
        f"worst mood: music / render = {worst / render_s:.3f} ({100 * worst / render_s:.1f}%, target < 10%)"
    )


if __name__ == "__main__":
    main()
