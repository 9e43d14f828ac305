"""`python -m theazo_emu` is the `theazo-emu` command."""

from theazo_emu.cli.main import main

if __name__ == "__main__":
    main()
