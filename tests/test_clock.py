"""iso(): the one wire format for instants, built without strftime on the hot path."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from theazo_emu.core.clock import iso, parse_iso

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("ms", [0, 1, -1, 999, 86_399_999, 86_400_000, 1_746_057_600_000, 1_746_143_999_999,
                                951_782_400_000, 4_102_444_800_000, 253_402_300_799_999, -2_208_988_800_001])
def test_iso_is_utc_with_milliseconds_and_fixed_width(ms: int) -> None:
    expected = (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert iso(ms) == expected and len(iso(ms)) == 24
    assert parse_iso(iso(ms)) == ms
