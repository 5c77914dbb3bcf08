"""Background music: a seeded score from the prompt's mood, synthesised and mastered on the CPU.

``plan_music`` decides (mood, tempo, key, instruments, one phrase per shot); ``render_music``
turns a plan into mastered 48 kHz stereo samples. Nothing is downloaded: every sound is
synthesised here.
"""

from __future__ import annotations

from refvid.audio.mix import render_music
from refvid.audio.plan import SAMPLE_RATE, MusicPlan, Section, plan_music

__all__ = ["SAMPLE_RATE", "MusicPlan", "Section", "plan_music", "render_music"]
