"""The --state and --catalog files: read by the tap, so a problem is one line, not a usage text."""

from __future__ import annotations

import sys
from pathlib import Path

from tap_leads.config.checks import json_object_problem

#: What a file of each option holds, and what to do when it does not exist.
OPTIONS = {
    "state": (
        "bookmarks",
        "For a first run, leave --state out; later, pass the file that holds the last "
        "STATE message of the previous run.",
    ),
    "catalog": (
        "streams",
        "Leave --catalog out to extract every configured stream, or write one with "
        "tap-leads --config … --discover > catalog.json.",
    ),
}


def read_option_file(option: str, path: str) -> tuple[str, str | None]:
    """The text of a --state or --catalog file ("-": stdin), or why it cannot be used."""
    holds, missing = OPTIONS[option]
    label = f"{option.capitalize()} file {path}"
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return "", f"{label} does not exist. {missing}"
    except IsADirectoryError:
        return "", f"{label} is a directory, not a JSON file."
    except OSError as exc:
        return "", f"{label} cannot be read: {exc.strerror or exc}."
    except UnicodeDecodeError:
        return "", f"{label} is not UTF-8 text."
    return text, json_object_problem(label, text, holds)
