"""Parsing a request body as JSON with bounded nesting, naming where it nests too deep.

``json.loads`` recurses once per level and raises ``RecursionError`` near a thousand; pydantic
refuses to serialise a few hundred levels. Both are far beyond anything the contract needs, so
bodies are refused past :data:`MAX_DEPTH` levels with the path of the first value that is too
deep (``payload.a[0].b``), before either can fail.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

MAX_DEPTH: Final = 32
"""Levels of objects and arrays a body may nest (the body itself is level 1)."""

_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.S)
Path = list[str | int]


class BodyError(ValueError):
    """The body cannot be used: ``field`` says where (``body`` for the whole of it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotJson(BodyError):
    """The bytes are not JSON."""


class TooDeep(BodyError):
    """A value is nested deeper than :data:`MAX_DEPTH`."""


def field_name(path: Path) -> str:
    """``["payload", "a", 0]`` → ``payload.a[0]`` (the spelling of validation errors)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def _too_deep(path: Path, max_depth: int) -> TooDeep:
    field = field_name(path)
    return TooDeep(
        field,
        f"{field}: nested more than {max_depth} levels deep (objects and arrays); send a flatter value",
    )


def parse(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``raw``; :class:`NotJson` or :class:`TooDeep` otherwise."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _too_deep(_deep_path(raw, max_depth) or [], max_depth) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotJson("body", f"the body is not valid JSON ({exc})") from None
    path = _first_too_deep(value, max_depth)
    if path is not None:
        raise _too_deep(path, max_depth)
    return value


def _first_too_deep(value: Any, max_depth: int) -> Path | None:
    """Path of the first container at level ``max_depth + 1``, walking without recursion."""
    stack: list[tuple[Any, Path]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if len(path) >= max_depth:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node)
        children = [(child, [*path, key]) for key, child in items if isinstance(child, dict | list)]
        stack.extend(reversed(children))
    return None


def _deep_path(raw: bytes, max_depth: int) -> Path | None:
    """The same path, read from the tokens of a body too deep for ``json.loads`` to parse."""
    path: Path = []
    kinds: list[bytes] = []  # b"{" or b"[" per open container
    key: str | int = 0
    for match in _TOKEN.finditer(raw):
        token = match.group()
        if token in (b"{", b"["):
            if kinds:
                path.append(key)
            if len(kinds) >= max_depth:
                return path
            kinds.append(token)
            key = 0
        elif token in (b"}", b"]"):
            if kinds:
                kinds.pop()
            if path:
                last = path.pop()
                key = last
        elif token == b",":
            if kinds and kinds[-1] == b"[" and isinstance(key, int):
                key += 1
        elif token != b":" and kinds and kinds[-1] == b"{":
            try:
                key = json.loads(token)
            except ValueError:
                key = "?"
    return None
