"""The SDK's package __init__ files wait until a name of the package itself is asked for
(tap_leads/sdk_import.py): a run imports only the SDK modules it uses, and code written
against `singer_sdk.X` still works. Each case runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_tap_imports_no_sdk_part_a_run_does_not_use() -> None:
    out = fresh(
        """
        import sys
        import tap_leads.tap
        print(sorted(name for name in (
            "requests", "joblib", "singer_sdk.target_base", "singer_sdk.streams.rest",
            "singer_sdk.streams.graphql", "singer_sdk.tap_base", "singer_sdk.streams.core",
        ) if name in sys.modules))
        print("Tap" in vars(sys.modules["singer_sdk"]))
        """
    )
    assert out == "['singer_sdk.streams.core', 'singer_sdk.tap_base']\nFalse\n"


def test_a_name_of_the_package_runs_its_init_then() -> None:
    out = fresh(
        """
        import sys
        import tap_leads.tap
        import singer_sdk
        from singer_sdk import typing as th  # a submodule: no __init__ needed
        print("singer_sdk.target_base" in sys.modules, th is sys.modules["singer_sdk.typing"])
        from singer_sdk import Target, Tap
        import singer_sdk.tap_base, singer_sdk.target_base
        print(Tap is singer_sdk.tap_base.Tap, Target is singer_sdk.target_base.Target)
        print(singer_sdk.streams.RESTStream.__name__)
        """
    )
    assert out == "False True\nTrue True\nRESTStream\n"


@pytest.mark.parametrize("package", ["singer_sdk", "singer_sdk.streams"])
def test_a_name_the_package_lacks_is_an_attribute_error(package: str) -> None:
    out = fresh(
        f"""
        import importlib
        import tap_leads
        package = importlib.import_module({package!r})
        try:
            package.no_such_name
        except AttributeError as exc:
            print(exc)
        """
    )
    assert out == f"module {package!r} has no attribute 'no_such_name'\n"


def test_a_package_imported_before_is_left_as_it_is() -> None:
    out = fresh(
        """
        import sys
        import singer_sdk
        import tap_leads
        print("Tap" in vars(sys.modules["singer_sdk"]))
        """
    )
    assert out == "True\n"
