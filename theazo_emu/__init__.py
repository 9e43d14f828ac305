"""theazo-emu: a local, deterministic emulator of the Theazo REST API."""

__version__ = "0.1.0"

from .app import create_app  # noqa: E402  (app reads __version__)

__all__ = ["__version__", "create_app"]
