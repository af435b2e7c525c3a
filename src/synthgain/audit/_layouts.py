"""The row layouts of LLM post-training data, and the text of each row that is measured.

A layout is recognised from the fields of a file's first row (:func:`detect_layout`) and
then read from every row (:func:`extract_texts`):

============  ==========================================  =============================
layout        fields                                      the response
============  ==========================================  =============================
text          one text column (``text``)                   the column itself
alpaca        ``instruction``, ``input`` (optional),       ``output``
              ``output``
chat          ``messages``: turns ``{role, content}``      the last assistant turn
sharegpt      ``conversations``: turns ``{from, value}``   the last ``gpt`` turn
preference    ``prompt`` (optional), ``chosen``,           the chosen response; the
              ``rejected`` (strings or turn lists)         rejected one is kept beside it
============  ==========================================  =============================

``field`` chooses the text measured: ``"response"`` (above), ``"prompt"`` (the user turns
before the last assistant turn, or all user turns when there is none, joined by a blank
line; Alpaca: ``instruction``, then ``input`` after a blank line when not empty) or
``"conversation"`` (every turn in order as ``"{role}: {content}"``, turns joined by a
blank line, roles normalised to ``system``/``user``/``assistant``).

Rows are dicts carrying their 1-based row number under :data:`ROW` and their file under
:data:`FILE`; every error names that file, the row, the column and the remedy. Options
are named in messages as the caller names them (``names``: the command line passes
``{"field": "--field", ...}``; the Python API is the default, ``field=``).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import ValidationError

ROW = "__row__"
FILE = "__file__"
INTERNAL = frozenset({ROW, FILE})

LAYOUTS = ("auto", "text", "alpaca", "chat", "sharegpt", "preference")
FIELDS = ("response", "prompt", "conversation")

#: Speaker names of the assistant and the user. ShareGPT dumps name the assistant "gpt"
#: (older ones also "chatgpt", "bing", "bard") and the user "human".
_ASSISTANT = frozenset({"assistant", "gpt", "chatgpt", "bing", "bard"})
_USER = frozenset({"user", "human"})
_CONVERSATION_COLUMNS = {"chat": ("messages", "conversations"),
                         "sharegpt": ("conversations", "messages")}

_FIELDS_OF = {
    "alpaca": "'instruction', 'input', 'output'",
    "chat": "'messages' (turns with 'role', 'content')",
    "sharegpt": "'conversations' (turns with 'from', 'value')",
    "preference": "'prompt', 'chosen', 'rejected'",
}
#: An undecodable byte, as ``surrogateescape`` decoding leaves it.
_UNDECODED = re.compile("[\udc80-\udcff]")
#: One line listing the layouts recognised, for the messages that find none.
KNOWN_LAYOUTS = "; ".join(f"{k}: {v}" for k, v in _FIELDS_OF.items())


@dataclass(frozen=True)
class Layout:
    """A recognised layout: its name and the column holding the text or the turns."""

    name: str
    column: str | None = None

    def label(self) -> str:
        """How the layout is named in messages: ``chat layout (column 'messages')``."""
        if self.column is not None:
            return f"{self.name} layout (column {self.column!r})"
        return f"{self.name} layout"


def option(names: Mapping[str, str], arg: str, value: str | None = None) -> str:
    """An option as the caller spells it: ``--field prompt`` or ``field='prompt'``."""
    if arg in names:
        return names[arg] if value is None else f"{names[arg]} {value}"
    return f"{arg}=" if value is None else f"{arg}={value!r}"


def where(row: Mapping[str, Any]) -> str:
    """``File 'x.jsonl', row 3``: the row's place, for messages."""
    return f"File '{row[FILE]}', row {row[ROW]}"


def detect_layout(row: Mapping[str, Any], layout: str, text_column: str | None
                  ) -> Layout | None:
    """The layout of a file from its first row (None when no layout is recognised).

    A forced ``layout`` is returned as given (its fields are checked row by row later).
    Otherwise the first match wins: the text column when the row has it, then
    preference pairs (``chosen`` and ``rejected``), a conversation (``messages`` or
    ``conversations``; chat or ShareGPT by the keys of its first turn), Alpaca
    (``instruction`` and ``output``).
    """
    if layout == "text" or (layout == "auto" and text_column is not None
                            and text_column in row):
        return Layout("text", text_column)
    if layout in ("preference", "alpaca"):
        return Layout(layout)
    if layout in _CONVERSATION_COLUMNS:
        first, second = _CONVERSATION_COLUMNS[layout]
        return Layout(layout, second if second in row and first not in row else first)
    if "chosen" in row and "rejected" in row:
        return Layout("preference")
    for column in ("messages", "conversations"):
        if column in row:
            return Layout(_turn_style(row[column], column), column)
    if "instruction" in row and "output" in row:
        return Layout("alpaca")
    return None


def _turn_style(value: Any, column: str) -> str:
    """``chat`` for ``{role, content}`` turns, ``sharegpt`` for ``{from, value}``."""
    turns = _parse_list(value)
    for t in turns or ():
        if isinstance(t, dict):
            if "from" in t and "role" not in t:
                return "sharegpt"
            if "role" in t:
                return "chat"
    return "chat" if column == "messages" else "sharegpt"


def _parse_list(value: Any) -> list[Any] | None:
    """A list, or a string holding one as JSON or as a Python literal (pandas' CSV)."""
    if isinstance(value, list | tuple):
        return list(value)
    if hasattr(value, "tolist") and not isinstance(value, str):  # a NumPy array
        out = value.tolist()
        return out if isinstance(out, list) else None
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            try:
                parsed = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
        return parsed if isinstance(parsed, list) else None
    return None


def text_of(value: Any, row: Mapping[str, Any], column: str) -> str:
    """A cell as text, or an error naming the row and the column (missing, not text,
    not UTF-8). Bytes are decoded as UTF-8; lone surrogates (undecodable bytes read with
    ``surrogateescape``) are reported with the byte."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            pos = exc.start
            raise ValidationError(
                f"{where(row)}, column {column!r}: the text is not valid UTF-8 "
                f"(byte {exc.object[pos]:#04x} at position {pos}). Re-encode the file as UTF-8."
            ) from None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValidationError(
            f"{where(row)}, column {column!r}: the text is missing. Fill or drop this row."
        )
    if not isinstance(value, str):
        raise ValidationError(
            f"{where(row)}, column {column!r}: expected text, got "
            f"{type(value).__name__} {value!r}."
        )
    bad = _UNDECODED.search(value)
    if bad is not None:
        raise ValidationError(
            f"{where(row)}, column {column!r}: the text is not valid UTF-8 "
            f"(byte {ord(bad.group()) - 0xDC00:#04x} at character {bad.start()}). Re-encode "
            "the file as UTF-8."
        )
    return value


Turns = list[tuple[str, str]]


def _role(turn: Mapping[str, Any]) -> str:
    role = str(turn.get("role", turn.get("from", ""))).strip().lower()
    if role in _ASSISTANT:
        return "assistant"
    return "user" if role in _USER else role


def _content(value: Any, row: Mapping[str, Any], column: str, i: int) -> str:
    """A turn's text: a string, or the text parts of OpenAI's list of content parts."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        parts = [p.get("text") for p in value if isinstance(p, dict) and p.get("text")]
        value = "\n".join(str(p) for p in parts)
    return text_of(value, row, f"{column}[{i}]")


def turns_of(value: Any, row: Mapping[str, Any], column: str) -> Turns:
    """A conversation as ``(role, text)`` pairs; either turn style is accepted."""
    turns = _parse_list(value)
    if turns is None:
        got = f"the string {value[:40]!r}" if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            f"{where(row)}, column {column!r}: expected a list of turns ({{'role': ..., "
            f"'content': ...}} or {{'from': ..., 'value': ...}}), got {got}. Fix or drop this "
            "row."
        )
    out: Turns = []
    for i, t in enumerate(turns):
        if not isinstance(t, dict) or not ({"role", "from"} & t.keys()):
            raise ValidationError(
                f"{where(row)}, column {column!r}: turn {i} is not a turn with a 'role' (or "
                f"'from'): got {str(t)[:60]!r}. Fix or drop this row."
            )
        out.append((_role(t), _content(t.get("content", t.get("value")), row, column, i)))
    return out


def _last_assistant(turns: Turns) -> int | None:
    for i in range(len(turns) - 1, -1, -1):
        if turns[i][0] == "assistant":
            return i
    return None


def _roles(turns: Turns) -> str:
    found = sorted({r for r, _ in turns})
    return ", ".join(map(repr, found)) if found else "none: the conversation is empty"


def _response(turns: Turns, row: Mapping[str, Any], column: str,
              names: Mapping[str, str]) -> str:
    last = _last_assistant(turns)
    if last is None:
        raise ValidationError(
            f"{where(row)}, column {column!r}: the conversation has no assistant turn to "
            f"measure (roles found: {_roles(turns)}). Drop this row, or measure the prompts "
            f"with {option(names, 'field', 'prompt')}."
        )
    return turns[last][1]


def _prompt(turns: Turns, row: Mapping[str, Any], column: str,
            names: Mapping[str, str]) -> str:
    last = _last_assistant(turns)
    users = [t for r, t in turns[:last] if r == "user"]
    if not users:
        before = " before the last assistant turn" if last is not None else ""
        raise ValidationError(
            f"{where(row)}, column {column!r}: the conversation has no user turn{before} "
            f"(roles found: {_roles(turns)}). Drop this row, or measure the responses with "
            f"{option(names, 'field', 'response')}."
        )
    return "\n\n".join(users)


def _joined(turns: Turns) -> str:
    return "\n\n".join(f"{r}: {t}" for r, t in turns)


def _nonempty(text: str, row: Mapping[str, Any], column: str, what: str) -> str:
    if not text.strip():
        raise ValidationError(
            f"{where(row)}, column {column!r}: the {what} is empty. Fill or drop this row."
        )
    return text


def _require(row: Mapping[str, Any], column: str, layout: Layout) -> Any:
    if column not in row:
        found = ", ".join(repr(c) for c in row if c not in INTERNAL) or "none"
        raise ValidationError(
            f"{where(row)}: missing column {column!r} of the {layout.label()} (columns "
            f"found: {found}). Every row must be in the file's layout: fix or drop this row."
        )
    return row[column]


def _alpaca(row: Mapping[str, Any], field: str, layout: Layout) -> tuple[str, str]:
    instruction = text_of(_require(row, "instruction", layout), row, "instruction")
    value = row.get("input")
    extra = "" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        text_of(value, row, "input"))
    prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    if field == "prompt":
        return prompt, "instruction"
    output = text_of(_require(row, "output", layout), row, "output")
    if field == "response":
        return output, "output"
    return _joined([("user", prompt), ("assistant", output)]), "output"


def _side(value: Any, row: Mapping[str, Any], column: str) -> Turns | str:
    """A preference side (or prompt): a string, or a list of turns."""
    if isinstance(value, str):
        parsed = _parse_list(value)
        if not parsed or not all(isinstance(t, dict) for t in parsed):
            return text_of(value, row, column)
    return turns_of(value, row, column)


def _preference(row: Mapping[str, Any], side: str, field: str, layout: Layout,
                names: Mapping[str, str]) -> tuple[str, str]:
    answer = _side(_require(row, side, layout), row, side)
    prompt: Turns | str | None = None
    if "prompt" in row and row["prompt"] is not None:
        prompt = _side(row["prompt"], row, "prompt")
    prompt_turns = [("user", prompt)] if isinstance(prompt, str) else (prompt or [])
    if field == "response":
        if isinstance(answer, str):
            return answer, side
        return _response(answer, row, side, names), side
    if field == "prompt":
        if isinstance(prompt, str):
            return prompt, "prompt"
        if prompt:
            return _prompt(prompt, row, "prompt", names), "prompt"
        if isinstance(answer, str):
            raise ValidationError(
                f"{where(row)}: no 'prompt' column and {side!r} is a plain string, so there is "
                "no prompt to measure. Add the prompts, or measure the responses with "
                f"{option(names, 'field', 'response')}."
            )
        return _prompt(answer, row, side, names), side
    if isinstance(answer, str):
        return _joined([*prompt_turns, ("assistant", answer)]), side
    full = any(r == "user" for r, _ in answer)  # the side already holds the whole exchange
    return _joined(answer if full else [*prompt_turns, *answer]), side


def _one(row: Mapping[str, Any], layout: Layout, field: str, side: str,
         names: Mapping[str, str]) -> tuple[str, str]:
    """The measured text of one row and the column it came from."""
    if layout.name == "text":
        col = layout.column or "text"
        if col not in row:
            raise ValidationError(
                f"{where(row)}: missing text column {col!r} (columns found: "
                f"{', '.join(repr(c) for c in row if c not in INTERNAL) or 'none'}). Pass "
                f"{option(names, 'text_column')} naming the text column, or "
                f"{option(names, 'embedding_column')} for precomputed embeddings."
            )
        return text_of(row[col], row, col), col
    if layout.name == "alpaca":
        return _alpaca(row, field, layout)
    if layout.name == "preference":
        return _preference(row, side, field, layout, names)
    col = layout.column or "messages"
    turns = turns_of(_require(row, col, layout), row, col)
    if field == "response":
        return _response(turns, row, col, names), col
    if field == "prompt":
        return _prompt(turns, row, col, names), col
    return _joined(turns), col


_WHAT = {"response": "response", "prompt": "prompt", "conversation": "conversation"}


def extract_texts(
    rows: Sequence[Mapping[str, Any]],
    layout: Layout,
    field: str,
    names: Mapping[str, str],
    *,
    require_text: bool = True,
) -> tuple[list[str], list[str] | None]:
    """The measured text of every row and, for preference pairs, the rejected side's.

    ``require_text`` makes an empty (or blank) measured text an error naming the row.
    For the text layout ``field`` does not apply: the column is the text.
    """
    what = "text" if layout.name == "text" else _WHAT[field]
    texts = []
    for r in rows:
        text, col = _one(r, layout, field, "chosen", names)
        texts.append(_nonempty(text, r, col, what) if require_text else text)
    rejected = None
    if layout.name == "preference" and field != "prompt":
        rejected = []
        for r in rows:
            text, col = _one(r, layout, field, "rejected", names)
            rejected.append(_nonempty(text, r, col, what) if require_text else text)
    return texts, rejected


def extract_prompts(rows: Sequence[Mapping[str, Any]], layout: Layout, field: str,
                    names: Mapping[str, str]) -> list[str | None] | None:
    """Each row's prompt where the responses are measured in a layout with prompts
    (chat, ShareGPT, Alpaca, preference pairs): what the language model conditions the
    response on. None for other layouts and fields; a row without a prompt gets None."""
    if field != "response" or layout.name == "text":
        return None
    out: list[str | None] = []
    for r in rows:
        try:
            text, _ = _one(r, layout, "prompt", "chosen", names)
        except ValidationError:
            text = ""
        out.append(text if text.strip() else None)
    return out if any(p is not None for p in out) else None


_MEASURED = {
    ("alpaca", "response"): "the responses (column 'output')",
    ("alpaca", "prompt"): "the prompts ('instruction', then 'input')",
    ("alpaca", "conversation"): "whole exchanges (prompt and output, with role tags)",
    ("chat", "response"): "the last assistant turn of each conversation",
    ("chat", "prompt"): "the user turns before the last assistant turn",
    ("chat", "conversation"): "whole conversations (all turns, with role tags)",
    ("preference", "response"): "the {side} responses (the {other} ones are kept beside "
                                "them)",
    ("preference", "prompt"): "the prompts",
    ("preference", "conversation"): "the {side} conversations (the {other} ones are kept "
                                    "beside them)",
}


def describe(layout: Layout, field: str, n: int, shards: int | None,
             names: Mapping[str, str], *, side: str = "chosen") -> str:
    """One line: ``read 3,000 rows in chat layout (column 'messages'); measuring ...``.

    ``side`` is the preference side measured (``"chosen"`` or ``"rejected"``).
    """
    source = f" from {shards:,} shards" if shards is not None else ""
    head = f"read {n:,} rows{source} in {layout.label()}"
    if layout.name == "text":
        tail = f"measuring the column {layout.column!r}"
        if field != "response":
            tail += (f" (a plain text column has no prompt or turns: "
                     f"{option(names, 'field', field)} does not apply)")
        return f"{head}; {tail}"
    style = "chat" if layout.name == "sharegpt" else layout.name
    other = "chosen" if side == "rejected" else "rejected"
    return f"{head}; measuring {_MEASURED[style, field].format(side=side, other=other)}"
