"""The `theazo-emu` command (main.py) and its subcommands, and the pytest plugin."""
