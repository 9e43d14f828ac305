"""The emulator's version (also the package's `__version__`), in a module of its own so that
reading it imports nothing else."""

__version__ = "0.1.0"
