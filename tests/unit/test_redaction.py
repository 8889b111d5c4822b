"""Secrets are masked in every log line (tap_leads/redaction.py), whatever their number."""

from __future__ import annotations

import logging
import random
import string

from tap_leads.redaction import MASK, RedactingFormatter, Secrets, redact


def test_each_secret_is_masked_wherever_it_stands() -> None:
    secrets = Secrets(["key_live_abc123", "tok-XYZ", "abcd"])
    line = "key_live_abc123 sent tok-XYZ, then abcd and abcdabcd?tok-XYZ"
    assert secrets.redact(line) == f"{MASK} sent {MASK}, then {MASK} and {MASK}{MASK}?{MASK}"


def test_a_secret_holding_another_is_masked_whole() -> None:
    assert redact("Bearer sk_live_0001 and sk_live", ["sk_live", "sk_live_0001"]) == (
        f"Bearer {MASK} and {MASK}"
    )


def test_secrets_too_short_to_mask_and_short_lines_are_left() -> None:
    assert Secrets(["abc"]).redact("abc abc") == "abc abc"
    assert Secrets(["abcd"]).redact("abc") == "abc"
    assert Secrets([]).redact("anything") == "anything"


def test_ten_thousand_accounts_secrets_are_all_found() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    many = ["".join(rng.choices(alphabet, k=rng.randint(8, 40))) for _ in range(10_000)]
    secrets = Secrets(many)
    assert len(secrets) == 10_000
    for secret in rng.sample(many, 200):
        line = f"Autocalls account x: HTTP 401 with key {secret}; retrying"
        assert secrets.redact(line) == f"Autocalls account x: HTTP 401 with key {MASK}; retrying"
    assert secrets.redact("nothing secret here") == "nothing secret here"


def test_the_formatter_masks_the_finished_line() -> None:
    formatter = RedactingFormatter(logging.Formatter("%(levelname)s %(message)s"), ["s3cr3t!"])
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", ("s3cr3t!",), None)
    assert formatter.format(record) == f"ERROR token {MASK}"
