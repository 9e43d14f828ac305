"""The emulator's own admin surface under /_emu: its surface, routes, bodies and the inspector page."""
