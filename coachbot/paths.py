"""Where the migrations and the content live: beside the package in a wheel, else the repository."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`migrations` or `content`: the copy bundled into a wheel, else the source checkout's."""
    bundled = _PACKAGE / "_bundled" / name
    return bundled if bundled.is_dir() else _PACKAGE.parent / name


MIGRATIONS_DIR = resource_dir("migrations")
CONTENT_DIR = resource_dir("content")
