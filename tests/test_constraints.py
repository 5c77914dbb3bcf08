"""constraints.txt, the lock `make` installs from, agrees with pyproject.toml's ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    return [Requirement(text) for text in texts]


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_every_requirement_is_pinned_inside_its_range(requirement: Requirement) -> None:
    pins = _pins()
    assert _name(requirement.name) in pins, f"{requirement.name} is missing: run make lock"
    assert pins[_name(requirement.name)] in requirement.specifier, f"{requirement} vs the lock: run make lock"


@pytest.mark.parametrize(
    ("package", "floor"),
    [("starlette", "0.49.1"), ("h11", "0.16"), ("urllib3", "2.5"), ("jinja2", "3.1.6"), ("setuptools", "78.1.1")],
)
def test_no_locked_version_is_one_with_a_known_vulnerability(package: str, floor: str) -> None:
    assert _pins()[package] >= Version(floor)


def test_the_makefile_installs_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "$(PIP) install" in line]
    assert installs and all("$(LOCK)" in line for line in installs)
    assert "LOCK   := -c constraints.txt" in makefile
