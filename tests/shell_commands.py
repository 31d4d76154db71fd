"""Which commands a bash script runs, read from its syntax tree (tree-sitter-bash; no shell).

Every ``command`` node counts, wherever it is: in ``$(...)``, backticks, ``<(...)``, ``${...}``,
double quotes and unquoted here-docs too. Case patterns, ``for`` word lists and arithmetic are
not commands; nor, in this grammar, are ``[ ]``, ``[[ ]]``, ``local`` and ``export`` (builtins,
so nothing to install; the commands in their arguments still count). Wrappers that run their
argument as a command (``exec``, ``timeout``, ``nohup``, ``setsid``, ``env``, ``xargs``, ...)
count that command too.
``command -v NAME`` counts NAME as used: a script looks for what it means to run. A command word
that is not literal (``"$py"``, ``"build_$t"``) cannot be resolved and is reported as dynamic.

What runs inside another root or image is not the host's business: ``chroot ROOT cmd`` counts
``chroot`` only, and arguments of functions are never read as commands.

A script the grammar cannot read (an ERROR node; e.g. ``${x%%]*}``) is refused, not half-read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

_PARSER = Parser(Language(tree_sitter_bash.language()))

# Commands that run their first non-option argument as a command.
WRAPPERS = {"exec", "command", "timeout", "nohup", "setsid", "env", "xargs", "nice", "sudo"}
# Options of those wrappers that take a value.
WRAPPER_OPTIONS_WITH_VALUE = {
    "exec": {"-a"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"},
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "xargs": {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter"},
    "nice": {"-n", "--adjustment"},
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")


@dataclass(frozen=True)
class Call:
    """One command a script runs: ``name`` as written (a path for scripts it calls)."""

    name: str
    line: int
    args: tuple[str | None, ...] = ()  # literal arguments; None where not literal
    kind: str = "command"  # command | probe (``command -v``) | dynamic


@dataclass
class Script:
    calls: list[Call] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Word:
    text: str  # as written
    value: str | None  # with quotes removed, or None when it expands something
    line: int


def _literal(node: Node) -> str | None:
    """A word's value with its quotes removed, or None when it expands something."""
    text = _text(node)
    if node.type in {"word", "number"}:
        return re.sub(r"\\(.)", r"\1", text.replace("\\\n", ""))
    if node.type == "raw_string":
        return text[1:-1]
    if node.type == "string" and all(c.type == "string_content" for c in node.named_children):
        return re.sub(r'\\([$`"\\])', r"\1", text[1:-1].replace("\\\n", ""))
    if node.type in {"concatenation", "command_name"}:
        parts = [_literal(c) for c in node.children]
        return None if None in parts else "".join(p or "" for p in parts)
    return None  # an expansion or substitution


def _text(node: Node) -> str:
    return (node.text or b"").decode()


def _wrapped(name: str, words: list[_Word]) -> int | None:
    """Index in ``words`` of the command a wrapper runs, or None."""
    with_value = WRAPPER_OPTIONS_WITH_VALUE.get(name, set())
    i = 0
    if name == "timeout":
        # timeout [options] DURATION COMMAND
        while i < len(words) and (words[i].value or "").startswith("-"):
            i += 2 if words[i].value in with_value else 1
        i += 1
    else:
        while i < len(words):
            value = words[i].value or ""
            if name == "env" and _ASSIGNMENT.match(value):
                i += 1
            elif value.startswith("-") and value != "-":
                i += 2 if value in with_value else 1
            else:
                break
    return i if i < len(words) else None


def _record(script: Script, words: list[_Word]) -> None:
    """One simple command's words (assignments and redirections left out)."""
    while words:
        first, rest = words[0], words[1:]
        if first.value is None:
            script.calls.append(Call(first.text, first.line, kind="dynamic"))
            return
        name = first.value
        if name == "time":  # a keyword that the grammar reads as a command name
            words = rest[1:] if rest and rest[0].value == "-p" else rest
            continue
        script.calls.append(Call(name, first.line, tuple(w.value for w in rest)))
        if name == "command" and rest and rest[0].value in {"-v", "-V"}:
            probed = [Call(w.value, w.line, kind="probe") for w in rest[1:] if w.value]
            script.calls.extend(probed)
            return
        index = _wrapped(name, rest) if name in WRAPPERS else None
        if index is None:
            return
        words = rest[index:]


def _walk(node: Node, script: Script, first_line: int, arithmetic: bool = False) -> None:
    if node.type == "command" and not arithmetic:
        parts = [node.child_by_field_name("name"), *node.children_by_field_name("argument")]
        words = [_Word(_text(p), _literal(p), p.start_point.row + first_line) for p in parts if p]
        _record(script, words)
    elif node.type == "function_definition" and (name := node.child_by_field_name("name")):
        script.functions.add(_text(name))
    elif node.type == "command_substitution":
        # In a here-doc the grammar reads $((...)) as $( (...) ): arithmetic, not commands.
        arithmetic = _text(node).startswith("$((")
    elif node.type == "heredoc_redirect":
        start = next((c for c in node.children if c.type == "heredoc_start"), None)
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        quoted = start is None or any(q in _text(start) for q in "'\"\\")
        # The grammar reads only $(...) there; an unescaped ` would be missed.
        if body and not quoted and re.search(r"(?<!\\)`", _text(body)):
            line = body.start_point.row + first_line
            raise ValueError(f"line {line}: backticks in a here-doc are not parsed: use $(...)")
    for child in node.children:
        _walk(child, script, first_line, arithmetic)


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    return next((e for c in node.children if (e := _first_error(c))), None)


def parse_script(text: str, first_line: int = 1) -> Script:
    root = _PARSER.parse(text.encode()).root_node
    if root.has_error and (error := _first_error(root)):
        line = error.start_point.row + first_line
        raise ValueError(f"line {line}: tree-sitter-bash cannot read {_text(error)[:40]!r}")
    script = Script()
    _walk(root, script, first_line)
    return script


def read_procfile(text: str) -> Script:
    """Each ``name: command`` line of a Procfile, as a one-line script."""
    script = Script()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#") or ":" not in line:
            continue
        inner = parse_script(line.split(":", 1)[1], first_line=number)
        script.calls.extend(inner.calls)
    return script
