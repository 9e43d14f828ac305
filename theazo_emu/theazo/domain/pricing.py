"""The one price table: every cost in the emulator is integer cents computed here.

Compute is 5 cents per started minute of a run (the reference's own figures: 142
minutes cost 710). Model tokens are priced per million tokens per model, rounded up
to a whole cent per charge. Storage is 10 cents per GB (the reference: 0.4 GB, 4 cents).
The mock engine prices its plans with this module, handed to it (its `Pricing`) by whoever
builds it: the mock sits below the domain and imports nothing from it.
"""

from __future__ import annotations

import math

CURRENCY = "usd"
COMPUTE_CENTS_PER_MINUTE = 5
STORAGE_CENTS_PER_GB = 10
DEFAULT_MODEL = "claude-sonnet-4-20250514"

# cents per million (input, output) tokens
MODEL_PRICES: dict[str, tuple[int, int]] = {
    "claude-sonnet-4-20250514": (300, 1500),
    "claude-3-5-sonnet-20241022": (300, 1500),
    "claude-3-7-sonnet-20250219": (300, 1500),
    "claude-opus-4-20250514": (1500, 7500),
    "claude-3-5-haiku-20241022": (80, 400),
    "gpt-4o": (250, 1000),
    "gpt-4o-mini": (15, 60),
    "gpt-4.1": (200, 800),
    "o3": (200, 800),
}


def model_key(model: str | None) -> str:
    """The price-table name of a model id ('anthropic/claude-...' -> 'claude-...')."""
    if not model:
        return DEFAULT_MODEL
    return model.rsplit("/", 1)[-1]


def model_cents(model: str | None, input_tokens: int, output_tokens: int) -> int:
    price_in, price_out = MODEL_PRICES.get(model_key(model), MODEL_PRICES[DEFAULT_MODEL])
    return math.ceil((input_tokens * price_in + output_tokens * price_out) / 1_000_000)


def compute_minutes(duration_ms: int) -> int:
    """Billed minutes of a run: every started minute counts."""
    return math.ceil(duration_ms / 60_000) if duration_ms > 0 else 0


def compute_cents(minutes: float) -> int:
    return math.ceil(minutes * COMPUTE_CENTS_PER_MINUTE)


def run_cents(model: str | None, input_tokens: int, output_tokens: int, duration_ms: int) -> int:
    """A run's charge: compute for its started minutes, plus its model's tokens."""
    return compute_cents(compute_minutes(duration_ms)) + model_cents(model, input_tokens, output_tokens)


def storage_cents(gb: float) -> int:
    return math.ceil(gb * STORAGE_CENTS_PER_GB)


def cost(amount: int) -> dict:
    """The wire shape of a cost."""
    return {"amount": int(amount), "currency": CURRENCY}


def size_text(size: int) -> str:
    """The SDK's human size: '512 B', '4.0 KB', '1.0 MB', '2.5 GB' (binary multiples)."""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def duration_text(ms: int) -> str:
    """The SDK's human duration: '42s', '3m 5s', '1h 2m'."""
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds}s" if seconds else f"{ms}ms"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if minutes else f"{hours}h"
