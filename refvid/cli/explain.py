"""A plan in words: what each shot shows and why, for ``refvid plan`` on a terminal."""

from __future__ import annotations

import re
from typing import Any

_HOW = {
    "mention": "named in the prompt",
    "content": "matches what the picture shows",
    "order": "next reference in order",
    "back to": "the prompt returns to it",
    "same subject": "a new framing of the shot before",
    "repeat": "shown again to fill the time",
    "only": "the only reference",
}


def explain(plan: dict[str, Any]) -> str:
    """Plain text: a header, then per shot its reference and why, framing, move and travel,
    transitions in and out, grade, layers, life and warnings, then the plan's other warnings."""
    lines = [
        f"{plan['engine']} plan · {plan['width']}x{plan['height']} · {plan['frame_count']} frames at "
        f"{plan['fps']} fps · seed {plan['seed']}"
    ]
    if plan.get("note"):
        lines.append(str(plan["note"]))
    if plan.get("titles"):
        lines.append("title and mood lines (no shot of their own): " + "; ".join(plan["titles"]))
    warnings = list(plan.get("warnings", []))
    for number, shot in enumerate(plan.get("shots", []), start=1):
        lines.append("")
        shown = f"image {shot['image']}"
        layers = shot.get("layers") or {}
        if layers.get("mode") == "composite":
            placed = " and ".join(str(s["matte"]) for s in layers.get("subjects", []))
            shown = f"{placed} in the scene of {shown}"
        lines.append(f"shot {number} · {shot['start_s']:.2f}–{shot['end_s']:.2f} s · {shown}")
        if "reference_chosen_by" in shot:
            how = _HOW.get(shot["reference_chosen_by"], shot["reference_chosen_by"])
            words = shot.get("reference_chosen_words") or []
            lines.append(f"  why:        {how}" + (f" ({', '.join(repr(w) for w in words)})" if words else ""))
        if "framing" in shot:
            lines.append(f"  framing:    {shot['framing']}")
        if "move" in shot:
            move = str(shot["move"]).replace("_", " ")
            if shot.get("then_move"):
                move += ", then " + str(shot["then_move"]).replace("_", " ")
            travel = shot.get("travel")
            amplitude = shot.get("movement_amplitude")
            detail = ", ".join(
                part for part in (
                    f"travels {travel * 100:.0f}% of the frame" if travel is not None else "",
                    f"{amplitude} amplitude" if amplitude else "",
                ) if part
            )
            lines.append(f"  move:       {move}" + (f" ({detail})" if detail else ""))
        if "transition_in" in shot:
            lines.append(f"  in / out:   {shot['transition_in']} / {shot.get('transition_out', '?')}")
        if "grade" in shot:
            lines.append(f"  grade:      {shot['grade']}")
        drawn = _layers(layers, dolly_zoom=shot.get("move") == "dolly_zoom")
        if drawn:
            lines.append(f"  layers:     {drawn}")
        if shot.get("life"):
            lines.append(f"  life:       {_life(shot['life'])}")
        if shot.get("text"):
            lines.append(f"  prompt:     {shot['text']}")
        prefix = re.compile(rf"^shot {number}: ")
        for warning in [w for w in warnings if prefix.match(w)]:
            lines.append(f"  warning:    {prefix.sub('', warning)}")
    others = [w for w in warnings if not re.match(r"^shot \d+: ", w)]
    if others:
        lines.append("")
        lines.extend(f"warning: {w}" for w in others)
    if plan.get("music"):
        lines.append("")
        lines.append("music: " + ", ".join(f"{k} {v}" for k, v in plan["music"].items() if not isinstance(v, list | dict)))
    return "\n".join(lines) + "\n"


def _layers(layers: dict[str, Any], *, dolly_zoom: bool = False) -> str:
    """How a layered shot is drawn; empty for a plain flat shot (a flat one with a reason says why)."""
    mode = layers.get("mode", "flat")
    parallax = f"background moves {float(layers.get('parallax', 0)) * 100:.0f}% less than the subject"
    if dolly_zoom:
        parallax = "the subject holds still while the background zooms (dolly zoom)"
    if mode == "parallax":
        return f"subject of {layers['subject_matte']} cut out over its filled background; {parallax}"
    if mode == "composite":
        subjects = ", ".join(
            f"{s['matte']} at ({s['x']:.0f}, {s['y']:.0f}) scaled {s['scale']:.2f}" for s in layers.get("subjects", [])
        )
        return f"{subjects} placed into the scene of {layers['scene']}; {parallax}"
    return f"flat picture ({layers['reason']})" if layers.get("reason") else ""


def _life(life: dict[str, Any]) -> str:
    parts = [f"head sway up to {life['head_sway_degrees']}°"] if life.get("head_sway_degrees") else []
    if life.get("breathing"):
        parts.append("breathing")
    if life.get("blinks"):
        parts.append(f"{life['blinks']} blink{'s' if life['blinks'] != 1 else ''}")
    return ", ".join(parts) or "none"
