"""The emulator's own admin surface under /_emu: clock, reset, journal, state, fixtures, faults, inspector."""
