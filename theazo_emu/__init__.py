"""theazo-emu: a local, deterministic emulator of the Theazo and Theo REST APIs."""

from theazo_emu.core.version import __version__

__all__ = ["__version__", "create_app"]


def __getattr__(name: str):
    # `from theazo_emu import create_app` works, but importing the package (for its
    # version, or one submodule) does not import the whole application.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
