"""Where the files shipped with tracker live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # A wheel carries copies inside the package (see pyproject.toml); a checkout or an
    # editable install has them at the top level, next to the package.
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tracker is installed without its {name}/ folder")


def templates_dir() -> Path:
    """The Jinja2 templates."""
    return _shipped("templates")


def examples_dir() -> Path:
    """The bundled example data (the January 2025 corpus and its demo config)."""
    return _shipped("examples")


def default_config() -> Path:
    """The shipped config.yaml (the demo takes its topics and settings from it)."""
    for candidate in (_PACKAGE / "default-config.yaml", _PACKAGE.parent / "config.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("tracker is installed without its default config.yaml")
