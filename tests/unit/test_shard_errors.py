"""Why a shard failed: the error lines picked out of its Meltano log."""

from orchestration.shard_run import Outcome, error_lines

LOG = [
    "2026-12-04T18:07:26.041398Z [info     ] meltano      Meltano 4.4.1, Python 3.11.7",
    "2026-12-04T18:07:32.679622Z [info     ] tap-leads    autocalls_leads[ac-014] done: 1 page(s)",
    "2026-12-04T18:07:32.689110Z [info     ] tap-leads    autocalls_leads[ac-042] failed: "
    "Autocalls account ac-042 rejected the credentials (HTTP 401: Unauthenticated.).",
    "2026-12-04T18:07:33.000000Z [info     ] target-postgres Target sink for 'teli_leads' drained",
    "2026-12-04T18:07:36.357424Z [error    ] meltano      Extractor failed",
    "2026-12-04T18:07:36.357778Z [error    ] meltano      Block run completed",
]


def test_the_plugins_error_lines_then_meltanos_without_its_closing_line():
    assert error_lines(LOG) == [
        "tap-leads: autocalls_leads[ac-042] failed: Autocalls account ac-042 rejected the "
        "credentials (HTTP 401: Unauthenticated.).",
        "meltano: Extractor failed",
    ]


def test_a_loader_traceback_ends_in_its_exception():
    lines = [
        "2026-12-04T18:12:29.1Z [info     ] target-postgres Traceback (most recent call last):",
        '2026-12-04T18:12:29.2Z [info     ] target-postgres   File "x.py", line 1, in <module>',
        "2026-12-04T18:12:29.3Z [info     ] target-postgres sqlalchemy.exc.IntegrityError: "
        "(psycopg.errors.UniqueViolation) duplicate key value",
        "2026-12-04T18:12:29.4Z [error    ] meltano      Loader failed",
    ]
    assert Outcome(1, 1.0, lines, error_lines(lines)).summary == (
        "target-postgres: Traceback (most recent call last): | target-postgres: "
        "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key value"
        " | meltano: Loader failed"
    )


def test_with_no_error_line_the_summary_is_the_last_line():
    assert Outcome(1, 1.0, ["killed"], error_lines(["killed"])).summary == "killed"
    assert Outcome(1, 1.0, [], []).summary == "(no output)"
