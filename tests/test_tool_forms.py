"""The prompted parser reads every written form of a call Gemini-family models are known to use.

Property-based (Hypothesis, derandomized): for any JSON-valued arguments, a call written
as our ``{"tool_calls": ...}`` object, a bare ``{"name", "args"}``, OpenAI's
``{"type": "function", ...}`` (arguments as an object or a JSON string) or Python-call
syntax in a ```tool_code fence, fenced or not, with prose around it, parses back to the
same tool and arguments; several blocks are several calls in order; no text makes it
raise; nothing in a tool_code block is ever evaluated.
"""

from __future__ import annotations

import json
import keyword
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini.tools import ToolSpec, parse_tool_reply

FAST = settings(derandomize=True, max_examples=40, deadline=None)

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
)
TOOLS = [WEATHER, ToolSpec("now", "Current time.")]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name) and name not in {"true", "false", "null", "none"}
)
arguments = st.dictionaries(identifiers, json_values, max_size=4)
# Prose that cannot itself contain a fence or JSON.
prose = st.text(st.characters(blacklist_characters="`{}[]", codec="utf-8"), max_size=30)


def _python_call(name: str, args: dict[str, Any]) -> str:
    # repr() of JSON values is a Python literal (True/None/floats/str/dict/list).
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in args.items())})"


def _written(form: str, name: str, args: dict[str, Any]) -> str:
    if form == "tool_calls":
        return json.dumps({"tool_calls": [{"name": name, "arguments": args}]})
    if form == "name_args":
        return json.dumps({"name": name, "args": args})
    if form == "openai":
        return json.dumps({"type": "function", "function": {"name": name, "arguments": args}})
    if form == "openai_string":
        inner = {"name": name, "arguments": json.dumps(args)}
        return json.dumps({"type": "function", "function": inner})
    assert form == "tool_code"
    return f"```tool_code\n{_python_call(name, args)}\n```"


FORMS = ["tool_calls", "name_args", "openai", "openai_string", "tool_code"]


@FAST
@given(
    form=st.sampled_from(FORMS),
    args=arguments,
    fence=st.sampled_from(["", "```json", "```"]),
    before=prose,
    after=prose,
)
def test_every_form_round_trips(
    form: str, args: dict[str, Any], fence: str, before: str, after: str
) -> None:
    block = _written(form, "get_weather", args)
    if fence and form != "tool_code":
        block = f"{fence}\n{block}\n```"
    reply = parse_tool_reply(f"{before}\n{block}\n{after}", TOOLS)
    assert reply.invalid_tool_calls == []
    assert [(c.name, c.args) for c in reply.tool_calls] == [("get_weather", args)]
    expected = {"openai_string": "openai"}.get(form, form)
    assert len(reply.forms) == 1 and reply.forms[0].startswith(expected)
    assert ("```json" in reply.forms[0]) == (fence == "```json" and form != "tool_code")
    assert reply.text == "\n".join(p for p in (before.strip(), after.strip()) if p)


@FAST
@given(
    calls=st.lists(
        st.tuples(st.sampled_from(FORMS), st.sampled_from(["get_weather", "now"]), arguments),
        min_size=1,
        max_size=4,
    ),
    gap=prose,
)
def test_several_fenced_blocks_are_parallel_calls_in_order(
    calls: list[tuple[str, str, dict[str, Any]]], gap: str
) -> None:
    blocks = []
    for form, name, args in calls:
        written = _written(form, name, args)
        blocks.append(written if form == "tool_code" else f"```json\n{written}\n```")
    reply = parse_tool_reply(f"\n{gap}\n".join(blocks), TOOLS)
    assert reply.invalid_tool_calls == []
    assert [(c.name, c.args) for c in reply.tool_calls] == [(n, a) for _, n, a in calls]
    assert len({c.id for c in reply.tool_calls}) == len(calls)


@FAST
@given(st.text(max_size=200))
def test_any_text_parses_without_raising(text: str) -> None:
    reply = parse_tool_reply(text, TOOLS)
    if not reply.tool_calls and not reply.invalid_tool_calls:
        assert reply.text == text


@FAST
@given(st.text(max_size=80))
def test_any_tool_code_block_parses_without_raising(code: str) -> None:
    reply = parse_tool_reply(f"```tool_code\n{code}\n```", TOOLS)
    for call in reply.tool_calls:
        assert call.name in {"get_weather", "now"}
        json.dumps(call.args)  # only JSON values come out


def test_tool_code_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "evaluated"
    code = (
        f"get_weather(city=open({str(marker)!r}, 'w').write('x'))\n"
        f"__import__('pathlib').Path({str(marker)!r}).touch()\n"
        "get_weather(city=f'{1+1}')\n"
        "now(**{'a': 1})"
    )
    reply = parse_tool_reply(f"```tool_code\n{code}\n```", TOOLS)
    assert not marker.exists()
    assert reply.tool_calls == []
    assert [c.name for c in reply.invalid_tool_calls] == ["get_weather", None, "get_weather", "now"]
    assert "not literals" in reply.invalid_tool_calls[0].error
    assert reply.invalid_tool_calls[1].error == "the called object is not a tool name"


def test_tool_code_variants() -> None:
    reply = parse_tool_reply(
        '```tool_code\nprint(default_api.get_weather("Paris", days=-2))\nnow()\n```', TOOLS
    )
    assert [(c.name, c.args) for c in reply.tool_calls] == [
        ("get_weather", {"city": "Paris", "days": -2}),
        ("now", {}),
    ]
    json_bools = parse_tool_reply("```tool_code\nget_weather(city=null, x=true)\n```", TOOLS)
    assert json_bools.tool_calls[0].args == {"city": None, "x": True}
    unknown = parse_tool_reply("```tool_code\nsend_email(to='a')\n```", TOOLS)
    assert unknown.invalid_tool_calls[0].name == "send_email"
    assert "unknown tool" in unknown.invalid_tool_calls[0].error
    broken = parse_tool_reply("```tool_code\nget_weather(city=\n```", TOOLS)
    assert "not Python call syntax" in broken.invalid_tool_calls[0].error
    too_many = parse_tool_reply("```tool_code\nget_weather('a', 2, 3)\n```", TOOLS)
    assert "name the arguments" in too_many.invalid_tool_calls[0].error


def test_bare_forms_for_unknown_tools_stay_text() -> None:
    # A structured answer that happens to look like a call is not one.
    for text in (
        '{"name": "Oslo", "args": {"population": 700000}}',
        '{"type": "function", "function": {"name": "other", "arguments": {}}}',
        "```python\nget_weather(city='Paris')\n```",
    ):
        reply = parse_tool_reply(text, TOOLS)
        assert (reply.text, reply.tool_calls, reply.invalid_tool_calls) == (text, [], [])
