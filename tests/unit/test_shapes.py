"""A page's keys read at once give exactly what reading them one by one gives."""

from __future__ import annotations

import random

import pytest

from tap_leads.replication.keys import KeyLedger
from tap_leads.replication.shapes import Hex, Pair, Whole, learn

# Keys of each shape, and keys that look close to it but are not of it.
_GOOD = {
    "whole": ["0", "42", "9" * 30],
    "whole_int": [0, 7, 10**12],
    "hex": ["0123456789abcdef01234567", "ffffffffffffffffffffffff", "000000000000000000000000"],
    "pair": ["1704067601502x704990706429174909", "0x000000000000000001", "9x999999999999999999"],
}
_BAD = [
    -1,
    "007",
    "4_2",
    " 42",
    "42\n",
    "\uff14\uff12",  # full-width digits
    "0123456789ABCDEF01234567",
    "0123456789abcdef0123456",
    "01704067601502x704990706429174909",
    "1704067601502x70499070642917490",
    "1704067601502y704990706429174909",
    "1704067601502x7049907064291749x9",
    "",
    None,
    4.0,
    True,
]
_SHAPES = {"whole": Whole(), "whole_int": Whole(), "hex": Hex(24), "pair": Pair("x", 18)}


@pytest.mark.parametrize("name", sorted(_SHAPES))
@pytest.mark.parametrize("seed", range(30))
def test_a_pages_numbers_equal_each_keys_number(name, seed):
    shape, rng = _SHAPES[name], random.Random(seed)
    keys = [rng.choice(_GOOD[name]) for _ in range(rng.randint(1, 40))]
    if seed % 3 == 0:
        keys.insert(rng.randrange(len(keys) + 1), rng.choice(_BAD))
    one_by_one = [shape.number(key) for key in keys]
    at_once = shape.numbers(keys)
    if None in one_by_one or len(set(map(type, keys))) > 1:
        assert at_once is None  # the page goes key by key (ints and texts mixed too)
    else:
        assert at_once == one_by_one
    assert seed % 3 == 0 or at_once is not None


def test_shapes_that_read_a_page_at_once_are_those_the_ledger_learns():
    assert type(learn("1704067601502x704990706429174909")) is Pair
    assert type(learn("0123456789abcdef01234567")) is Hex
    assert type(learn(17)) is Whole
    assert Whole().numbers([]) is None
    assert Pair("\n", 3).numbers(["1\n123"]) is None  # a separator that breaks the lines


@pytest.mark.parametrize("seed", range(20))
def test_a_ledger_fed_page_by_page_equals_one_fed_key_by_key(seed):
    rng = random.Random(seed)
    pool = [*_GOOD["pair"], *_GOOD["whole"], *_GOOD["whole_int"], *_GOOD["hex"], *_BAD[:4]]
    family = rng.choice(["pair", "whole", "whole_int", "hex"])
    pages = []
    for _ in range(8):
        page = [rng.choice(_GOOD[family]) for _ in range(rng.randint(0, 12))]
        if rng.random() < 0.2:
            page.append(rng.choice(pool))  # a key of another shape: the ledger refits
        pages.append(page)
    by_page, by_key = KeyLedger(), KeyLedger()
    for page in pages:
        assert by_page.first_times(page) == [by_key.first_time(key) for key in page]
    assert (by_page.count, by_page.repeats) == (by_key.count, by_key.repeats)
    assert by_page.texts() == by_key.texts()
