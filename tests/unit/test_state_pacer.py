"""Which stream ends write a STATE when every STATE holds the lists' membership."""

import pytest

from tap_leads.output import StatePacer


@pytest.mark.parametrize(
    ("count", "writing"),
    [(1, [0]), (2, [0, 1]), (3, [1, 2]), (4, [1, 3]), (5, [2, 4]), (9, [4, 8])],
)
def test_the_end_of_the_first_half_and_the_last_stream_write(count, writing):
    names = [f"s{i}" for i in range(count)]
    pacer = StatePacer(names)
    assert [i for i, name in enumerate(names) if pacer.allows(name)] == writing


def test_a_stream_outside_the_run_never_writes():
    assert not StatePacer(["a", "b"]).allows("deleted_leads")
