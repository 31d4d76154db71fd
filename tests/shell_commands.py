"""Which commands a bash script runs, read from its text (no shell involved).

Enough of bash for the project's scripts: quoting, comments, line continuations, here-docs
(bodies skipped; ``$(...)`` in unquoted ones still counted), ``$(...)``, backticks, ``${...}``
and ``<(...)`` (their commands counted wherever they appear, in double quotes too), ``$((...))``
and ``((...))``, ``[[ ... ]]``, arrays (``a=(...)``), redirections, ``case`` patterns,
``for`` word lists, function definitions, and wrappers that run their argument as a command
(``exec``, ``timeout``, ``nohup``, ``setsid``, ``env``, ``xargs``, ...). ``command -v NAME``
counts NAME as used: a script looks for what it means to run. A command word that is not
literal (``"$py"``, ``"build_$t"``) cannot be resolved and is reported as dynamic.

What runs inside another root or image is not the host's business: ``chroot ROOT cmd``
counts ``chroot`` only, and arguments of functions are never read as commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words that start or shape a compound command rather than name a program.
RESERVED = {
    "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "!", "{", "}",
    "time", "in", "esac", "select", "coproc",
}  # fmt: skip
# After these, words up to the next separator are redirections or nothing.
CLOSERS = {"fi", "done", "esac", "}"}
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
_REDIRECTION = re.compile(
    r"(\d*|\{[A-Za-z_][A-Za-z0-9_]*\})(>>|>&|<&|<>|>\||&>>|&>|<<<|<<-|<<|>|<)"
)
_OPERATORS = (";;&", ";;", ";&", "&&", "||", "|&", ";", "|", "&", "(", ")", "\n")
_METACHARS = set(" \t\n;&|()<>")


@dataclass(frozen=True)
class Call:
    """One command a script runs: ``name`` as written (a path for scripts it calls)."""

    name: str
    line: int
    args: tuple[str | None, ...] = ()  # literal arguments; None where not literal
    kind: str = "command"  # command | probe (``command -v``) | dynamic


@dataclass
class _Word:
    text: str  # as written
    value: str | None  # with quotes removed, or None when it expands something
    line: int
    end_col_adjacent: bool = False  # directly followed by "(" (a function definition)


@dataclass
class _Token:
    kind: str  # word | op | redir | arith
    text: str
    line: int
    word: _Word | None = None


@dataclass
class Script:
    calls: list[Call] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)


class _Lexer:
    def __init__(self, text: str, first_line: int, script: Script) -> None:
        self.text = text
        self.i = 0
        self.line = first_line
        self.script = script
        self.tokens: list[_Token] = []
        self.pending_heredocs: list[tuple[str, bool, bool]] = []  # delimiter, strip tabs, expands
        self.at_command_start = True

    # -- helpers ---------------------------------------------------------------------------
    def _peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.text[j] if j < len(self.text) else ""

    def _advance(self, n: int = 1) -> str:
        chunk = self.text[self.i : self.i + n]
        self.line += chunk.count("\n")
        self.i += n
        return chunk

    def _substitution(self, start_line: int, body: str) -> None:
        """Commands inside $(...), `...` or <(...) are the script's commands too."""
        inner = parse_script(body, first_line=start_line)
        self.script.calls.extend(inner.calls)
        self.script.functions |= inner.functions

    def _matching(self, opener: str, closer: str) -> str:
        """Text up to the ``closer`` matching an ``opener`` just consumed (quote-aware)."""
        depth, start = 1, self.i
        while self.i < len(self.text):
            c = self._peek()
            if c == "\\":
                self._advance(2)
            elif c == "'":
                self._single_quoted()
            elif c == '"':
                self._double_quoted()
            elif c == "$" and self._peek(1) in "({":
                self._dollar()
            elif c == "`":
                self._backtick()
            elif c == opener:
                depth += 1
                self._advance()
            elif c == closer:
                depth -= 1
                if depth == 0:
                    body = self.text[start : self.i]
                    self._advance()
                    return body
                self._advance()
            else:
                self._advance()
        raise ValueError(f"line {self.line}: unterminated {opener}")

    def _single_quoted(self) -> str:
        self._advance()
        end = self.text.find("'", self.i)
        if end < 0:
            raise ValueError(f"line {self.line}: unterminated single quote")
        return self._advance(end - self.i + 1)[:-1]

    def _double_quoted(self) -> bool:
        """Consume "..."; True if it expands anything."""
        self._advance()
        expands = False
        while self.i < len(self.text):
            c = self._peek()
            if c == "\\":
                self._advance(2)
            elif c == '"':
                self._advance()
                return expands
            elif c == "$":
                expands |= self._dollar()
            elif c == "`":
                self._backtick()
                expands = True
            else:
                self._advance()
        raise ValueError(f"line {self.line}: unterminated double quote")

    def _dollar(self) -> bool:
        """Consume a $-expansion at the cursor; True if it expands (a lone $ does not)."""
        start_line = self.line
        nxt = self._peek(1)
        if self.text.startswith("$((", self.i):
            self._advance(3)
            self._matching("(", ")")
            if self._peek() == ")":
                self._advance()
            return True
        if nxt == "(":
            self._advance(2)
            self._substitution(start_line, self._matching("(", ")"))
            return True
        if nxt == "{":
            self._advance(2)
            self._matching("{", "}")
            return True
        if nxt == "'":  # $'...' (ANSI-C quoting): literal
            self._advance()
            self._ansi_c()
            return False
        if nxt and (nxt.isalnum() or nxt in "_@*#?$!-"):
            self._advance(2)
            if nxt.isalpha() or nxt == "_":
                while self._peek() and (self._peek().isalnum() or self._peek() == "_"):
                    self._advance()
            return True
        self._advance()
        return False

    def _ansi_c(self) -> None:
        self._advance()
        while self.i < len(self.text) and self._peek() != "'":
            self._advance(2 if self._peek() == "\\" else 1)
        self._advance()

    def _backtick(self) -> None:
        start_line = self.line
        self._advance()
        start = self.i
        while self.i < len(self.text) and self._peek() != "`":
            self._advance(2 if self._peek() == "\\" else 1)
        body = self.text[start : self.i]
        self._advance()
        self._substitution(start_line, body)

    # -- words and operators -----------------------------------------------------------------
    def _word(self) -> _Word:
        line, start = self.line, self.i
        literal: list[str] | None = []
        while self.i < len(self.text):
            c = self._peek()
            if c == "(" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\+?=", self.text[start : self.i]):
                self._advance()  # NAME=( ... ): an array assignment is one word
                self._matching("(", ")")
                literal = None
            elif c in _METACHARS:
                break
            else:
                part = self._word_part()
                literal = None if part is None or literal is None else [*literal, part]
        word = _Word(
            self.text[start : self.i], "".join(literal) if literal is not None else None, line
        )
        word.end_col_adjacent = self._peek() == "("
        return word

    def _word_part(self) -> str | None:
        """Consume one piece of a word: its literal text, or None if it expands something."""
        c = self._peek()
        if c == "\\":
            chunk = self._advance(2)
            return "" if chunk == "\\\n" else chunk[1:]
        if c == "'":
            return self._single_quoted()
        if c == '"':
            before = self.i
            if self._double_quoted():
                return None
            return self.text[before + 1 : self.i - 1].replace("\\", "")
        if c == "$":
            return None if self._dollar() else "$"
        if c == "`":
            self._backtick()
            return None
        return self._advance()

    def _heredoc_delimiter(self) -> None:
        strip = self.tokens[-1].text.endswith("-")
        while self._peek() and self._peek() in " \t":
            self._advance()
        word = self._word()
        self.tokens.append(_Token("word", word.text, word.line, word))
        quoted = any(q in word.text for q in "'\"\\")
        delimiter = word.value if word.value is not None else word.text.strip("'\"")
        self.pending_heredocs.append((delimiter, strip, not quoted))

    def _heredoc_bodies(self) -> None:
        """At the start of a line after a here-doc operator: skip each body."""
        for delimiter, strip, expands in self.pending_heredocs:
            body_line = self.line
            body: list[str] = []
            while self.i < len(self.text):
                end = self.text.find("\n", self.i)
                end = len(self.text) if end < 0 else end
                line = self.text[self.i : end]
                self._advance(end - self.i + (1 if end < len(self.text) else 0))
                if (line.lstrip("\t") if strip else line) == delimiter:
                    break
                body.append(line)
            if expands:
                # Only $(...) and `...` run anything in a body.
                sub = _Lexer("\n".join(body), body_line, self.script)
                while sub.i < len(sub.text):
                    ch = sub._peek()
                    if ch == "\\":
                        sub._advance(2)
                    elif ch == "$":
                        sub._dollar()
                    elif ch == "`":
                        sub._backtick()
                    else:
                        sub._advance()
        self.pending_heredocs = []

    def run(self) -> list[_Token]:
        while self.i < len(self.text):
            if self._blank_or_comment() or self._newline() or self._arithmetic():
                continue
            if self._process_substitution() or self._redirection() or self._operator():
                continue
            before = self.i
            word = self._word()
            if self.i == before:
                raise ValueError(
                    f"line {self.line}: cannot read {self.text[before : before + 20]!r}"
                )
            self.tokens.append(_Token("word", word.text, word.line, word))
            # `((` right after these is arithmetic: `if ((...))`, `for ((i = 0; ...))`.
            self.at_command_start = word.value in RESERVED or word.value == "for"
        return self.tokens

    def _blank_or_comment(self) -> bool:
        c = self._peek()
        if c in {" ", "\t"}:
            self._advance()
        elif c == "\\" and self._peek(1) == "\n":
            self._advance(2)
        elif c == "#" and (self.i == 0 or self.text[self.i - 1] in " \t\n;&|()"):
            while self.i < len(self.text) and self._peek() != "\n":
                self._advance()
        else:
            return False
        return True

    def _newline(self) -> bool:
        if self._peek() != "\n":
            return False
        self.tokens.append(_Token("op", "\n", self.line))
        self._advance()
        if self.pending_heredocs:
            self._heredoc_bodies()
        self.at_command_start = True
        return True

    def _arithmetic(self) -> bool:
        if not (self.at_command_start and self.text.startswith("((", self.i)):
            return False
        line = self.line
        self._advance(2)
        self._matching("(", ")")
        if self._peek() == ")":
            self._advance()
        self.tokens.append(_Token("arith", "((", line))
        self.at_command_start = False
        return True

    def _process_substitution(self) -> bool:
        if not (self._peek() in {"<", ">"} and self._peek(1) == "("):
            return False
        line = self.line
        self._advance(2)
        self._substitution(line, self._matching("(", ")"))
        self.tokens.append(_Token("word", "<(...)", line, _Word("<(...)", None, line)))
        return True

    def _redirection(self) -> bool:
        c = self._peek()
        match = _REDIRECTION.match(self.text, self.i)
        if not match or not (c in {"<", ">", "&"} or match.group(1)):
            return False
        if c == "&" and self._peek(1) != ">":
            return False
        self.tokens.append(_Token("redir", match.group(2), self.line))
        self._advance(len(match.group(0)))
        if match.group(2) in {"<<", "<<-"}:
            self._heredoc_delimiter()
        return True

    def _operator(self) -> bool:
        operator = next((op for op in _OPERATORS if self.text.startswith(op, self.i)), None)
        if operator is None:
            return False
        self.tokens.append(_Token("op", operator, self.line))
        self._advance(len(operator))
        self.at_command_start = True
        return True


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
    """One simple command's words (assignments and redirections already removed)."""
    while words:
        first, rest = words[0], words[1:]
        if first.value is None:
            script.calls.append(Call(first.text, first.line, kind="dynamic"))
            return
        name = first.value
        args = tuple(w.value for w in rest)
        if name == "command" and rest and rest[0].value in {"-v", "-V"}:
            for word in rest[1:]:
                if word.value is not None:
                    script.calls.append(Call(word.value, word.line, kind="probe"))
            script.calls.append(Call(name, first.line, args))
            return
        script.calls.append(Call(name, first.line, args))
        if name not in WRAPPERS:
            return
        index = _wrapped(name, rest)
        if index is None:
            return
        words = rest[index:]


class _Parser:
    """Simple commands from tokens, with what bash needs to tell commands from other words."""

    def __init__(self, tokens: list[_Token], script: Script) -> None:
        self.tokens = tokens
        self.script = script
        self.i = 0
        self.words: list[_Word] = []
        self.state = "start"  # start | args | skip | case-word | pattern | function-name
        self.cases = 0

    def run(self) -> None:
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            if token.kind == "redir":
                self.i += 1  # and its target
            elif token.kind == "arith":
                self.state = "args" if self.state == "start" else self.state
            elif token.kind == "op":
                self._operator(token.text)
            else:
                assert token.word is not None
                self._word(token.word)
        self._flush()

    def _flush(self) -> None:
        if self.words:
            _record(self.script, self.words)
        self.words = []

    def _operator(self, text: str) -> None:
        if self.state == "pattern":
            if text == ")":
                self.state = "start"
            return
        self._flush()
        if text in {";;", ";&", ";;&"} and self.cases:
            self.state = "pattern"
        elif text == "\n" and self.state == "case-word":
            pass
        elif text == ")" and self.state != "start":
            self.state = "skip"
        else:
            self.state = "start"

    def _word(self, word: _Word) -> None:
        value = word.value
        if self.state == "pattern":
            if value == "esac":
                self.cases -= 1
                self.state = "skip"
        elif self.state == "case-word":
            if value == "in":
                self.state = "pattern"
        elif self.state == "function-name":
            if value is not None:
                self.script.functions.add(value)
            self.state = "start"
        elif self.state == "start":
            self._command_start(word)
        elif self.state == "args":
            self.words.append(word)

    def _command_start(self, word: _Word) -> None:
        value = word.value
        if value in CLOSERS or value in {"for", "select"}:
            self.state = "skip"  # redirections, or a word list before `do`
        elif value in RESERVED:
            pass
        elif value == "case":
            self.cases += 1
            self.state = "case-word"
        elif value == "[[":
            while self.i < len(self.tokens) and self.tokens[self.i].text != "]]":
                self.i += 1
            self.i += 1
            self.state = "args"
        elif value == "function":
            self.state = "function-name"
        elif value is not None and word.end_col_adjacent and self._followed_by("(", ")"):
            self.script.functions.add(value)
            self.i += 2
        elif _ASSIGNMENT.match(value if value is not None else word.text):
            pass  # NAME=value before a command (or alone)
        else:
            self.words = [word]
            self.state = "args"

    def _followed_by(self, *texts: str) -> bool:
        following = self.tokens[self.i : self.i + len(texts)]
        return [t.text for t in following] == list(texts)


def parse_script(text: str, first_line: int = 1) -> Script:
    script = Script()
    tokens = _Lexer(text, first_line, script).run()
    _Parser(tokens, script).run()
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
