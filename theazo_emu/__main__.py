"""`python -m theazo_emu` is the `theazo-emu` command."""

from .cli import main

if __name__ == "__main__":
    main()
