"""The admin surface's routes under /_emu: clock, reset, journal, state, fixtures, faults, inspector."""
