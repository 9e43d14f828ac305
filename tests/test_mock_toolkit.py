"""core/mock.py, the toolkit both mock engines share: text shaping, seeded numbers, and the
first matching fixture script. The default answers are pinned here byte for byte: the
determinism tests compare two servers with each other, so only fixed values show a change
of seed, digest or text that both would share."""

from __future__ import annotations

from types import SimpleNamespace

from theazo_emu.core.auth import tenant_of
from theazo_emu.core.mock import count_tokens, digest, draw, first_match, seeded, shorten
from theazo_emu.theazo.domain import pricing
from theazo_emu.theazo.mock import Engine, RunRequest
from theazo_emu.theazo.mock.chat import ChatRequest, tokens
from theazo_emu.theo.domain.answers import Ask
from theazo_emu.theo.domain.mock import generated

KEY, OTHER = "th_test_toolkit_one", "th_test_toolkit_two"


def test_shorten_puts_text_on_one_line_and_cuts_it_with_an_ellipsis():
    assert shorten("  a\n\tb  c ", 10) == "a b c"
    assert shorten("abcdefghij", 10) == "abcdefghij"
    assert shorten("abcdefghijk", 10) == "abcdefghi…"


def test_a_token_is_four_characters_started_text_by_text():
    assert count_tokens("abcd", "abcde", "") == 3
    assert count_tokens() == 0
    assert tokens("") == 1  # a Theazo message counts at least one


def test_seeded_numbers_are_fixed_by_their_parts_and_separator():
    assert digest(42, "a", "b") == 18274108726910165627
    assert digest(42, "a", "b", sep="\x1f", size=4) == 2648253837
    assert draw(42, "fault_1", 1) == 0.9396152340813636
    assert seeded(42, "x").getrandbits(32) == 3988662630


def test_theazo_default_answers_are_pinned():
    engine = Engine(42, pricing)
    plan = engine.plan_run(RunRequest(task="Summarise the quarter", model="gpt-4o", tools=("web_search",)))
    assert plan.output == ("Done using web_search: Summarise the quarter. This is deterministic mock output "
                           "from theazo-emu (ref 743e3dac).")
    assert (plan.duration_ms, plan.input_tokens, plan.output_tokens) == (4697, 478, 215)
    assert plan.events[-1].data["cost"] == {"amount": 6, "currency": "usd"}
    reply = engine.plan_chat(ChatRequest(message="Hello there", model="gpt-4o"))
    assert reply.reply == 'Mock reply to "Hello there". Deterministic output from theazo-emu (ref d6851291).'
    assert (reply.duration_ms, reply.output_tokens) == (610, 34)
    assert engine.exec("python", "print(6 * 7)").to_api() == {"stdout": "42\n", "stderr": "", "exitCode": 0,
                                                               "durationMs": 62}
    assert engine.tool_output("web_search", {"query": "cats"}) == "7 results for 'cats'"


def test_theo_default_answers_are_pinned():
    answer = generated(42, Ask(prompt="Explain caching", mode="fast", resolved_mode="fast", engine="theo-1-flash"))
    assert answer.content == ("Quick answer on “Explain caching”: keep the interfaces small, write the failure "
                              "modes down, and check the edge cases. (theazo-emu mock, ref bd464fdb)\n\n— Theo")
    assert answer.chunks[:3] == ("Quick answer", " on “Explain", " caching”:")
    assert (answer.prompt_tokens, answer.completion_tokens) == (12, 40)


def _entry(name: str, key: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(spec=SimpleNamespace(name=name, match=SimpleNamespace(key=key)))


def _first(layers: list, tenant: str | None, wanted: str = "") -> str | None:
    entry = first_match(layers, tenant, lambda layer: layer, lambda spec: spec.name.startswith(wanted))
    return None if entry is None else entry.spec.name


def test_the_first_matching_entry_of_the_first_layer_wins():
    layers = [(None, [_entry("doc-a"), _entry("doc-b")]), (None, [_entry("file-a")])]
    assert _first(layers, None) == "doc-a"
    assert _first(layers, None, "doc-b") == "doc-b"
    assert _first(layers, None, "file") == "file-a"
    assert _first(layers, None, "none") is None


def test_a_layer_or_an_entry_limited_to_a_key_is_skipped_for_other_tenants():
    layers = [(tenant_of(KEY), [_entry("for-key")]), (None, [_entry("entry-for-key", KEY), _entry("anyone")])]
    assert _first(layers, tenant_of(KEY)) == "for-key"
    assert _first(layers, tenant_of(KEY), "entry") == "entry-for-key"
    assert _first(layers, tenant_of(OTHER)) == "anyone"
    assert _first(layers, None) == "anyone"
