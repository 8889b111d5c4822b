"""Every message the troubleshooting tables (README, docs/troubleshooting.md) quote is printable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Words that stand for values: numbers, setting names and paths, hosts, provider
#: names, the provider's own words and placeholders.
_VALUE = re.compile(
    r"\d|\.\w|_|<|>|^SIG|^\(?(N|M|Teli|Nexus|ERP|Flextell|Sela|Autocalls|teli|flextell|sela|autocalls|host|Invalid|API|key)\W*$"
)


def literal_text() -> str:
    """Every string literal in the package; "\\0" where an f-string inserts a value."""
    parts: list[str] = []
    for path in (REPO / "tap_leads").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                parts.append(
                    "".join(v.value if isinstance(v, ast.Constant) else "\0" for v in node.values)
                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts.append(node.value)
    # A logging format's %s inserts a value too.
    return re.sub(r"%[-\d.]*[sdfr]", "\0", "\n".join(parts))


def quoted_messages() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    section += (REPO / "docs" / "troubleshooting.md").read_text()
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [m for row in rows for m in re.findall(r"`([^`]+)`", row.split(" | ")[0])]


def chunks(message: str) -> list[str]:
    """Runs of three or more literal words between the values and the ellipses."""
    found = []
    for piece in re.split(r"…|[:;()]|\.\s", message):
        run: list[str] = []
        for word in [*piece.split(), "\0"]:
            if word == "\0" or _VALUE.search(word):
                if len(run) >= 3:
                    found.append(" ".join(run))
                run = []
            else:
                run.append(word)
    return found


def test_the_table_quotes_messages():
    assert len(quoted_messages()) >= 15


def test_every_quoted_message_is_in_the_code():
    source = literal_text()
    missing = [
        (message, chunk)
        for message in quoted_messages()
        for chunk in chunks(message)
        if chunk not in source
    ]
    assert missing == []


def test_a_message_the_code_cannot_print_is_caught():
    source = literal_text()
    invented = "Teli lost the leads in the basement, so nothing was read."
    assert [c for c in chunks(invented) if c not in source] == [
        "lost the leads in the basement, so nothing was read."
    ]
