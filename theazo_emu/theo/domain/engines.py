"""The branded engines, the modes they serve, intent classification and the one price table.

theo-api.md §2.1: fourteen engines are listed by GET /models (the summary's list); the
OpenAI-compatibility table adds two model ids that /chat/completions accepts as well
(`theo-1-roast` for roast, `theo-1-vision` for vision). `auto` is classified to a
resolved mode by a few deterministic keyword rules (the real classifier's "obvious
signals"). Prices are cents per million tokens (text engines) or cents per item (media),
in integer units of 1/10,000 cent so that sums are exact; `cost_cents` on the wire is
units / 10,000.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

VERSION = "2026-03-28"  # the API version: /health's `version` and the Theo-Version header
UNITS_PER_CENT = 10_000


class Engine(NamedTuple):
    id: str
    mode: str
    label: str
    engine: str  # the subsystem: theo-core, theo-vision, theo-search
    description: str
    cents_in: int = 0  # per million prompt tokens
    cents_out: int = 0  # per million completion tokens
    cents_each: int = 0  # per item (an image, a video); such engines count no tokens
    listed: bool = True  # listed by GET /models


ENGINES: tuple[Engine, ...] = (
    Engine("theo-1-auto", "auto", "Theo Auto", "theo-core", "Classifies each prompt and routes it to the best engine",
           10, 40),
    Engine("theo-1-flash", "fast", "Theo Flash", "theo-core", "Fast, lightweight completions for simple tasks", 10, 40),
    Engine("theo-1-reason", "think", "Theo Reason", "theo-core", "Deep reasoning and multi-step analysis", 300, 1500),
    Engine("theo-1-code", "code", "Theo Code", "theo-core",
           "Production-quality code generation optimized for long-form output", 300, 1500),
    Engine("theo-1-create", "image", "Theo Create", "theo-vision", "Photorealistic image generation", cents_each=4),
    Engine("theo-1-motion", "video", "Theo Motion", "theo-vision", "Short video generation", cents_each=50),
    Engine("theo-1-research", "research", "Theo Research", "theo-search",
           "Multi-step web research with source synthesis", 500, 2000),
    Engine("theo-1-edge", "roast", "Theo Edge", "theo-core", "Humorous, irreverent responses", 50, 200),
    Engine("theo-1-genui", "genui", "Theo GenUI", "theo-core", "Generative UI components (OpenUI Lang)", 300, 1200),
    Engine("theo-1-analyze", "domain_analysis", "Theo Analyze", "theo-core",
           "Domain analysis for business operations, finance and compliance", 300, 1500),
    Engine("theo-1-extract", "data_extraction", "Theo Extract", "theo-vision",
           "OCR and structured data extraction", 100, 400),
    Engine("theo-1-stealth", "stealth", "Theo Stealth", "theo-core", "Private text generation", 100, 400),
    Engine("theo-1-stealth-create", "stealth_image", "Theo Stealth Create", "theo-vision", "Private image generation",
           cents_each=4),
    Engine("theo-1-stealth-motion", "stealth_video", "Theo Stealth Motion", "theo-vision", "Private video generation",
           cents_each=50),
    Engine("theo-1-roast", "roast", "Theo Edge", "theo-core", "Humorous, irreverent responses", 50, 200, listed=False),
    Engine("theo-1-vision", "vision", "Theo Vision", "theo-vision", "Multimodal image analysis", 250, 1000,
           listed=False),
)
BY_ID = {engine.id: engine for engine in ENGINES}
# The engine each mode runs on by default (the first listed for it).
BY_MODE: dict[str, Engine] = {}
for _engine in ENGINES:
    BY_MODE.setdefault(_engine.mode, _engine)
MODES = tuple(BY_MODE)  # every mode a completion may ask for
# Image sub-engines that `image_model` may pick (SDK); `auto` keeps theo-1-create.
IMAGE_MODELS = ("auto", "theo-1-create", "theo-1-photo", "theo-1-rapid", "theo-1-design", "theo-1-studio",
                "theo-1-type")
MEDIA_MODES = frozenset({"image", "video", "stealth_image", "stealth_video"})

# Classification of `auto`: the first rule whose pattern the prompt matches; else `fast`.
_RULES = (
    ("image", re.compile(r"\b(draw|image|picture|photo|logo|illustration|sketch|painting)s?\b", re.I)),
    ("code", re.compile(r"\b(code|function|class|python|javascript|typescript|react|sql|bug|debug|regex|script|"
                        r"implement|refactor|api)s?\b", re.I)),
    ("research", re.compile(r"\b(research|sources|citations|latest news)\b", re.I)),
    ("think", re.compile(r"\b(why|explain|analy[sz]e|compare|plan|reason|prove|trade-?offs?|step by step)\b", re.I)),
)


def classify(prompt: str) -> str:
    """The mode `auto` resolves to for this prompt."""
    for mode, pattern in _RULES:
        if pattern.search(prompt):
            return mode
    return "fast"


def model_mode(model: str | None) -> str:
    """The mode a /chat/completions `model` names; unknown ids fall back to auto (documented)."""
    engine = BY_ID.get(model or "")
    return engine.mode if engine is not None else "auto"


def cost_units(engine: Engine, prompt_tokens: int, completion_tokens: int, items: int = 1) -> int:
    """The price of one completion in units of 1/10,000 cent, rounded up."""
    if engine.cents_each:
        return engine.cents_each * items * UNITS_PER_CENT
    return math.ceil((prompt_tokens * engine.cents_in + completion_tokens * engine.cents_out) / 100)


def cents(units: int) -> float | int:
    """Units as the wire's `cost_cents` (a number; whole cents print without a fraction)."""
    value = units / UNITS_PER_CENT
    return int(value) if value.is_integer() else round(value, 4)


def units(cents_value: float) -> int:
    return round(cents_value * UNITS_PER_CENT)


def model_to_api(engine: Engine) -> dict[str, str]:
    return {"id": engine.id, "label": engine.label, "engine": engine.engine}
