"""E.V.I. canvases: graphs of nodes compiled to a skill manifest. Owns theo_canvases.

theo-api.md §1.2 and the SDK's CanvasRecord. A canvas holds `graph_json` ({nodes, edges};
a node is `{id, type, data?}`, an edge `{source, target}`). Compiling checks the docs'
rules: node types among input, prompt, model, tool, knowledge, condition, output, vision
(`invalid_node_type`); exactly one input (`input_count`); every node reachable from it
(`unreachable_node`); at least one output reached (`no_output`); no cycle
(`cycle_detected`); a model node has a prompt upstream (`model_no_prompt`); edges name
known nodes (`unknown_node`). A compiled canvas is `testing`, with its manifest (the prompt
nodes' text as the system prompt extension, the tool nodes as tools) and its steps in
topological order; publishing submits that manifest as a skill (skills.py).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

TABLE, KIND = "theo_canvases", "canvas"
NODE_TYPES = ("input", "prompt", "model", "tool", "knowledge", "condition", "output", "vision")
MAX_LISTED = 50


def canvas_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "description": row["description"], "status": row["status"],
            "graphJson": row["graph"], "compiledManifest": row["compiled_manifest"],
            "compiledWorkflowSteps": row["compiled_steps"], "isPublic": bool(row["is_public"]),
            "publishedSkillId": row["published_skill_id"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def _text(node: dict[str, Any], *names: str) -> str | None:
    data = node.get("data") if isinstance(node.get("data"), dict) else {}
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


def compile_graph(row: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None, list[dict]]:
    """(manifest, steps, errors): the manifest and steps are None when there are errors."""
    graph = row["graph"] or {}
    nodes = [n for n in graph.get("nodes") or [] if isinstance(n, dict)]
    edges = [e for e in graph.get("edges") or [] if isinstance(e, dict)]
    errors: list[dict[str, Any]] = []
    by_id = {str(n.get("id")): n for n in nodes}
    for node in nodes:
        if node.get("type") not in NODE_TYPES:
            errors.append({"code": "invalid_node_type", "nodeId": str(node.get("id")),
                           "message": f"node type {str(node.get('type'))[:40]!r} is not one of {', '.join(NODE_TYPES)}"})
    after: dict[str, list[str]] = defaultdict(list)
    before: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        source, target = str(edge.get("source")), str(edge.get("target"))
        if source not in by_id or target not in by_id:
            errors.append({"code": "unknown_node", "message": f"edge {source} -> {target} names an unknown node"})
            continue
        after[source].append(target)
        before[target].append(source)
    inputs = [i for i, n in by_id.items() if n.get("type") == "input"]
    if len(inputs) != 1:
        errors.append({"code": "input_count", "message": f"a canvas needs exactly one input node, it has {len(inputs)}"})
        return None, None, errors
    seen, queue = {inputs[0]}, deque(inputs)
    while queue:
        for nxt in after[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    errors += [{"code": "unreachable_node", "nodeId": i, "message": f"node {i} is not reachable from the input"}
               for i in by_id if i not in seen]
    if not any(by_id[i].get("type") == "output" for i in seen):
        errors.append({"code": "no_output", "message": "no output node is reachable from the input"})
    order = _topological(list(by_id), after, before)
    if order is None:
        errors.append({"code": "cycle_detected", "message": "the graph has a cycle"})
    for i, node in by_id.items():
        if node.get("type") == "model" and not _has_upstream(i, before, by_id, "prompt"):
            errors.append({"code": "model_no_prompt", "nodeId": i, "message": f"model node {i} has no prompt upstream"})
    if errors or order is None:
        return None, None, errors
    prompts = [t for t in (_text(by_id[i], "prompt", "text", "systemPrompt") for i in order
                           if by_id[i].get("type") == "prompt") if t]
    tools = [{"name": (_text(by_id[i], "name", "tool") or f"tool_{n}").lower().replace("-", "_").replace(" ", "_"),
              "description": _text(by_id[i], "description") or "A tool of the canvas."}
             for n, i in enumerate(order) if by_id[i].get("type") == "tool"]
    manifest = {"name": row["name"], "description": row["description"] or row["name"], "version": "0.1.0",
                "category": "automation", "systemPromptExtension": "\n\n".join(prompts) or row["name"],
                "tools": tools, "permissions": [], "knowledge": [], "keywords": []}
    steps = [{"nodeId": i, "type": by_id[i].get("type"), "name": _text(by_id[i], "label", "name") or i}
             for i in order]
    return manifest, steps, []


def _topological(ids: list[str], after: dict[str, list[str]], before: dict[str, list[str]]) -> list[str] | None:
    degree = {i: len(before[i]) for i in ids}
    queue = deque(i for i in ids if degree[i] == 0)
    order = []
    while queue:
        current = queue.popleft()
        order.append(current)
        for nxt in after[current]:
            degree[nxt] -= 1
            if degree[nxt] == 0:
                queue.append(nxt)
    return order if len(order) == len(ids) else None


def _has_upstream(node: str, before: dict[str, list[str]], by_id: dict[str, dict], kind: str) -> bool:
    seen, queue = {node}, deque([node])
    while queue:
        for prev in before[queue.popleft()]:
            if by_id[prev].get("type") == kind:
                return True
            if prev not in seen:
                seen.add(prev)
                queue.append(prev)
    return False
