"""The Theo mock engine's default answers: text, tools, artifacts and follow-ups by mode.

The default generator, used when no fixture script matches (scripts.py): a pure function of
the seed and the request (prompt, modes, history, persona, skills, tools and tool results),
memoised, so identical requests give identical bytes, chunk boundaries included.
`data_extraction` also answers structured data (`extracted`).

On /chat/completions the client runs the tools (`client_tools`): when tools are offered
and the turn has no tool result yet, the default generator calls the tools the prompt
names (any word of a tool's name or description, or `tool_choice` forcing one) with
arguments built from their JSON Schema; given the results, it answers from them. On
/completions inline tools are reported as used when the prompt names them.
"""

from __future__ import annotations

import json
import math
import random
import re
from functools import lru_cache
from typing import Any

from theazo_emu.core.mock import seeded, shorten
from theazo_emu.theo.domain.answers import Answer, Ask, Tool, finish


def generated(seed: int, ask: Ask) -> Answer:
    return _generated(seed, ask)


@lru_cache(maxsize=512)
def _generated(seed: int, ask: Ask) -> Answer:
    rng = _random(seed, ask)
    topic = shorten(ask.prompt, 60)
    calls = _tool_calls(ask)
    if calls:
        return finish(ask, rng, "", tool_calls=calls, tools_used=server_tools(ask, ()))
    used = () if ask.client_tools else tuple(t for t in ask.tools if _names(t) & _words(ask.prompt))
    body, artifacts = _body(ask, rng, topic)
    lead = []
    speaker = persona_name(ask.persona)
    if speaker:
        lead.append(f"{speaker} here.")
    if ask.history:
        lead.append(f"Continuing our conversation (turn {ask.turn}).")
    if ask.tool_results:
        name, result = ask.tool_results[-1]
        lead.append(f"Using the result of {name} ({shorten(result, 80)}):")
    if used:
        lead.append(f"I called {', '.join(t.name for t in used)}.")
    if ask.skills:
        lead.append(f"With the {', '.join(ask.skills)} skill{'s' if len(ask.skills) > 1 else ''}:")
    content = " ".join([*lead, body])
    content += f" (theazo-emu mock, ref {rng.getrandbits(32):08x})"
    if ask.branding and ask.persona == "theo":
        content += "\n\n— Theo"
    follow_ups = ({"label": "Go deeper", "prompt": f"Go deeper on {topic}"},
                  {"label": (label := rng.choice(("Give an example", "Summarize it", "Show the trade-offs"))),
                   "prompt": f"{label}: {topic}"})
    structured = extracted(ask.prompt) if ask.resolved_mode == "data_extraction" else None
    return finish(ask, rng, content, tools_used=server_tools(ask, used), artifacts=artifacts, follow_ups=follow_ups,
                  structured=structured)


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"number out of range: {text[:40]}")
    return number


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


_STRICT = json.JSONDecoder(parse_float=_finite, parse_constant=_constant)  # what a JSON answer can carry
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_ ]{0,60}):\s+")


def extracted(prompt: str) -> dict[str, Any]:
    """What `data_extraction` extracts (the stream's `done.structured_output`): the JSON value
    the prompt holds (`parse_error` when it does not parse), else its `name: value` pairs
    (separated by commas, semicolons or lines), else its text."""
    starts = [i for i in (prompt.find("{"), prompt.find("[")) if i >= 0]
    if starts:
        try:
            return {"type": "json", "data": _STRICT.raw_decode(prompt[min(starts):])[0]}
        except ValueError as exc:
            return {"type": "json", "data": None, "parse_error": str(exc)}
        except RecursionError:
            return {"type": "json", "data": None, "parse_error": "JSON nested too deeply"}
    pairs = {}
    for segment in re.split(r"[,;\n]", prompt):
        keys = list(_KEY.finditer(segment))
        if keys:
            pairs[keys[-1].group(1).strip().lower().replace(" ", "_")] = segment[keys[-1].end():].strip()
    return {"type": "json", "data": pairs or {"text": prompt.strip()}}


_OPENERS = {
    "fast": ("Here is the short answer", "Quick answer", "In brief"),
    "think": ("Let me reason through this step by step", "Thinking it through carefully"),
    "roast": ("Oh, bold question", "Buckle up"),
    "research": ("Here is what the sources say", "Research summary"),
}
_POINTS = ("start from the requirements", "weigh the trade-offs", "check the edge cases", "measure before optimising",
           "keep the interfaces small", "write the failure modes down", "prefer the boring option")


def _body(ask: Ask, rng: random.Random, topic: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    mode = ask.resolved_mode
    points = rng.sample(_POINTS, 3)
    if mode in ("image", "stealth_image"):
        return f"Here is your image of “{topic}”.", (
            {"type": "image", "title": topic, "providerId": "theo-vision",
             "modelId": ask.image_model if ask.image_model not in (None, "auto") else ask.engine,
             "width": 1024, "height": 1024},)
    if mode in ("video", "stealth_video"):
        return f"Your video of “{topic}” is ready.", (
            {"type": "video", "title": topic, "providerId": "theo-vision", "modelId": ask.engine,
             "durationSeconds": rng.choice((5, 10))},)
    if mode == "code":
        language = _language(ask.prompt)
        name = re.sub(r"[^a-z0-9]+", "_", topic.lower()).strip("_")[:30] or "solution"
        code = _CODE[language].format(name=name, topic=topic.replace('"', "'")).rstrip("\n")
        text = f"Here is a {language} sketch for “{topic}”:\n\n```{language}\n{code}\n```\nIt is a starting point: " \
               f"{points[0]} and {points[1]}."
        return text, ({"type": "code", "title": f"{name}.{_EXTENSIONS[language]}", "providerId": "theo-core",
                       "modelId": ask.engine, "code": code, "language": language},)
    if mode == "genui":
        return (f'<Card title="{topic}">\n  <Text>{points[0].capitalize()}, then {points[1]}.</Text>\n'
                f'  <Button label="Learn more" />\n</Card>'), ()
    opener = rng.choice(_OPENERS.get(mode, _OPENERS["fast"]))
    if mode == "think":
        steps = " ".join(f"{n}) {p.capitalize()}." for n, p in enumerate(points, 1))
        return f"{opener} about “{topic}”. {steps} That is the core of it.", ()
    if mode == "research":
        text = f"{opener} on “{topic}”: {points[0]} [1], {points[1]} [2], and {points[2]} [3]."
        return text, ({"type": "document", "title": f"Research: {topic}", "providerId": "theo-search",
                       "modelId": ask.engine, "sizeBytes": len(text.encode())},)
    return f"{opener} on “{topic}”: {points[0]}, {points[1]}, and {points[2]}.", ()


_CODE = {
    "python": 'def {name}():\n    """{topic}"""\n    return "ok"\n',
    "typescript": "export function {name}(): string {{\n  // {topic}\n  return \"ok\";\n}}\n",
    "javascript": "function {name}() {{\n  // {topic}\n  return \"ok\";\n}}\n",
    "sql": "-- {topic}\nSELECT 'ok' AS {name};\n",
}
_EXTENSIONS = {"python": "py", "typescript": "ts", "javascript": "js", "sql": "sql"}


def _language(prompt: str) -> str:
    lowered = prompt.lower()
    for language, hints in (("typescript", ("typescript", " ts ", "react")), ("javascript", ("javascript", "node")),
                            ("sql", ("sql", "query"))):
        if any(hint in f" {lowered} " for hint in hints):
            return language
    return "python"


def server_tools(ask: Ask, used: tuple[Tool, ...]) -> tuple[dict[str, Any], ...]:
    """The tools the orchestration reports: the classifier, memory, the mode's own, inline ones."""
    tools = []
    if ask.mode == "auto":
        tools.append({"name": "Intent classifier", "status": "success",
                      "description": f"Classified the prompt as {ask.resolved_mode}"})
    if ask.history:
        tools.append({"name": "memory", "status": "success",
                      "description": f"Recalled {len(ask.history)} earlier messages"})
    own = {"research": "research", "code": "code", "image": "image_generation", "video": "video_generation"}
    if ask.resolved_mode in own:
        tools.append({"name": own[ask.resolved_mode], "status": "success",
                      "description": f"Ran the {ask.resolved_mode} pipeline"})
    tools += [{"name": t.name, "status": "success", "description": t.description} for t in used]
    return tuple(tools)


def _tool_calls(ask: Ask) -> tuple[dict[str, Any], ...]:
    """The tools a client-tools turn calls: none once the turn has results."""
    if not ask.client_tools or not ask.tools or ask.tool_results or ask.tool_choice == "none":
        return ()
    if ask.tool_choice not in ("auto", "required"):
        chosen = [t for t in ask.tools if t.name == ask.tool_choice]
    else:
        chosen = [t for t in ask.tools if _names(t) & _words(ask.prompt)]
        if not chosen and ask.tool_choice == "required":
            chosen = [ask.tools[0]]
    return tuple({"name": t.name, "arguments": json.dumps(_arguments(t, ask.prompt), separators=(",", ":"))}
                 for t in chosen)


def _arguments(tool: Tool, prompt: str) -> dict[str, Any]:
    """Arguments that satisfy the tool's schema, taken from the prompt where they can be."""
    try:
        schema = json.loads(tool.schema)
    except ValueError:
        schema = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return {}
    required = schema.get("required")
    names = [n for n in properties if not isinstance(required, list) or n in required] or list(properties)
    place = re.search(r"\b(?:in|for|at|of)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)", prompt)
    out: dict[str, Any] = {}
    for name in names:
        spec = properties[name] if isinstance(properties[name], dict) else {}
        kind = spec.get("type")
        if isinstance(spec.get("enum"), list) and spec["enum"]:
            out[name] = spec["enum"][0]
        elif kind in ("number", "integer"):
            out[name] = 1
        elif kind == "boolean":
            out[name] = True
        elif kind == "array":
            out[name] = []
        elif kind == "object":
            out[name] = {}
        else:
            out[name] = place.group(1) if place else shorten(prompt, 40)
    return out


_STOP = frozenset({"the", "and", "for", "with", "from", "that", "this", "what", "get", "set", "list", "make", "into",
                   "your", "have", "about", "tool", "call"})


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOP}


def _names(tool: Tool) -> set[str]:
    return _words(tool.name.replace("_", " ").replace("-", " "))


def persona_name(persona: str) -> str | None:
    """The name a system prompt gives its persona ("You are Ava, ..."), if it gives one."""
    if persona in ("theo", "none"):
        return None
    match = re.search(r"\byou are ([A-Z][\w-]*)", persona, re.I)
    return match.group(1) if match and match.group(1)[0].isupper() else None


def _random(seed: int, ask: Ask) -> random.Random:
    """Seeded with the text of everything the answer depends on (the tenant is not part of it)."""
    parts = (seed, ask.prompt, ask.mode, ask.resolved_mode, ask.engine, ask.history, ask.persona, ask.branding,
             ask.skills, ask.tools, ask.tool_results, ask.tool_choice, ask.client_tools, ask.image_model,
             ask.attachments)
    return seeded(repr(parts))
