"""Errors that carry what the user should change; API and CLI map them to codes."""

from __future__ import annotations


class RefvidError(Exception):
    """Base class: the message is written for the person who sent the request."""


class InvalidReference(RefvidError):
    """A reference image could not be fetched or decoded (HTTP 400). Names it by index."""

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        self.detail = message
        super().__init__(f"image_urls[{index}]: {message}")


class EngineUnavailable(RefvidError):
    """The chosen engine cannot run here (missing extra, weights or device)."""


class Cancelled(RefvidError):
    """The caller cancelled the generation."""
