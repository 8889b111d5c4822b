"""The commands that README.md and docs/*.md quote, and what their own parsers make of them.

Shell blocks (```bash, ```sh) are read line by line, with continuations joined; inline code
spans that start with a command are read too. `…` placeholders become `x`. Each command is
checked by the parser of the program it calls: tap-leads's click command, Meltano's (run by
the pinned Meltano in .venv-meltano), the emulator's argparse parser.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click

from emulator.__main__ import build_parser
from tap_leads.tap import TapLeads

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MELTANO_PYTHON = REPO / ".venv-meltano" / "bin" / "python"
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.M | re.S)
ANY_BLOCK = re.compile(r"^```.*?^```", re.M | re.S)
SEPARATORS = {"|", "||", "&&", ";", "&"}
REDIRECTS = {">", ">>", "<", ">&", "2>", "&>"}


@dataclass(frozen=True)
class Command:
    doc: str
    text: str
    program: str  # tap-leads, meltano, emulator, pip, scripts/…, or the word itself
    args: tuple[str, ...]


def shell_lines(markdown: str) -> list[str]:
    """The lines of the shell blocks, continuations joined, and inline commands."""
    lines: list[str] = []
    for block in SHELL_BLOCK.findall(markdown):
        lines += block.replace("\\\n", " ").splitlines()
    prose = ANY_BLOCK.sub("", markdown)
    for span in re.findall(r"`([^`\n]+)`", prose):
        words = [w for w in span.split() if not re.match(r"^[A-Z_]+=", w)]
        program = words[0].rsplit("/", 1)[-1] if words else ""
        # A command, not a mention of one (`meltano config set`) or a log line.
        tap = program == "tap-leads" and words[1:2] and words[1].startswith("-")
        meltano = program == "meltano" and (len(words) >= 4 or any(w[0] == "-" for w in words))
        if tap or meltano or (words[:1] == ["pip"] and len(words) >= 3):
            lines.append(span)
    return lines


def commands(markdown: str, doc: str = "") -> list[Command]:
    found = []
    for line in shell_lines(markdown):
        text = line.replace("…", "x").strip()
        lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:
            continue
        for words in _simple_commands(tokens):
            command = _command(doc, line.strip(), words)
            if command is not None:
                found.append(command)
    return found


def _simple_commands(tokens: list[str]) -> list[list[str]]:
    """Split at pipes and separators; drop redirections and leading VAR=value words."""
    result: list[list[str]] = [[]]
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in SEPARATORS:
            result.append([])
        elif token in REDIRECTS or token.startswith((">", "<")):
            skip = token in REDIRECTS
        elif not result[-1] and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            continue
        else:
            result[-1].append(token)
    return [words for words in result if words]


def _command(doc: str, text: str, words: list[str]) -> Command | None:
    first, rest = words[0], tuple(words[1:])
    if first.endswith("/python") or first == "python":
        if rest[:2] == ("-m", "emulator"):
            return Command(doc, text, "emulator", rest[2:])
        if rest[:2] == ("-m", "pip"):
            return Command(doc, text, "pip", rest[2:])
        return None
    name = first.rsplit("/", 1)[-1]
    if name in {"tap-leads", "meltano", "pip"}:
        return Command(doc, text, name, rest)
    if first.startswith("scripts/"):
        return Command(doc, text, first, rest)
    return None


def all_commands() -> list[Command]:
    return [
        command
        for path in DOCS
        for command in commands(path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())
    ]


# ----- the programs' own parsers ---------------------------------------------------


def tap_leads_problem(args: tuple[str, ...]) -> str | None:
    """What tap-leads's click command says of these arguments, without running it."""
    command = TapLeads.get_singer_command()
    context = click.Context(command, info_name="tap-leads")
    try:
        _values, extra, order = command.make_parser(context).parse_args(list(args))
    except click.UsageError as exc:
        return exc.format_message()
    if extra:
        return f"unexpected argument(s): {extra}"
    for param in order:
        value = _values.get(param.name)
        if isinstance(param.type, click.Choice) and value is not None:
            try:
                param.type.convert(value, param, context)
            except click.BadParameter as exc:
                return exc.format_message()
    return None


def emulator_problem(args: tuple[str, ...]) -> str | None:
    """What the emulator's argparse parser says of these arguments."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(list(args))
    except SystemExit as exc:
        if exc.code:
            return (errors.getvalue().strip().splitlines() or [f"exit {exc.code}"])[-1]
    return None


_MELTANO_PARSE = """
import json, sys, click
from meltano.cli import cli
results = []
for argv in json.load(sys.stdin):
    try:
        command, name, args, parent = cli, "meltano", list(argv), None
        while True:
            # Callbacks that read the project see none: only the parsing is checked.
            extra = {} if parent else {"obj": {"project": None}}
            context = command.make_context(name, args, parent=parent, **extra)
            if not isinstance(command, click.Group):
                break
            rest = [*getattr(context, "_protected_args", []), *context.args]
            if not rest:
                break
            name, command, args = command.resolve_command(context, rest)
            parent = context
        results.append(None)
    except click.exceptions.Exit:
        results.append(None)
    except click.ClickException as exc:
        results.append(exc.format_message())
print(json.dumps(results))
"""


def meltano_problems(argvs: list[tuple[str, ...]]) -> list[str | None]:
    """What the pinned Meltano's own click parser says of each argument list."""
    result = subprocess.run(
        [str(MELTANO_PYTHON), "-W", "ignore", "-c", _MELTANO_PARSE],
        input=json.dumps([list(a) for a in argvs]),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=REPO,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
