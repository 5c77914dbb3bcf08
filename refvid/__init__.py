"""refvid: reference images + a prompt in, a multi-shot MP4 out."""

from __future__ import annotations

from refvid.request import GenerationRequest

__all__ = ["GenerationRequest", "__version__"]
__version__ = "0.1.0"
