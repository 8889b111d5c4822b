"""Signs that a list moved within one walk, in the words users read."""

from tap_leads.replication.bookmarks import ListWatch


def walk(*pages: tuple[int | None, int, int]) -> ListWatch:
    watch = ListWatch()
    for total, fresh, repeats in pages:
        watch.page(total, fresh, repeats)
    return watch


def test_a_still_list_shows_no_movement():
    assert walk((300, 100, 0), (300, 100, 0), (300, 100, 0)).movement() is None


def test_a_total_that_changed_is_named_from_the_first_to_the_new_value():
    watch = walk((300, 100, 0), (295, 100, 0), (295, 95, 0))
    assert watch.movement() == "its announced total went from 300 to 295"


def test_a_page_served_before_the_change_but_read_later_does_not_hide_it():
    # Pages fetched ahead: page 3 was served before the deletion, page 2 after it.
    watch = walk((300, 100, 0), (295, 100, 0), (300, 95, 0))
    assert watch.movement() == (
        "its announced total went from 300 to 295; 295 distinct lead(s) were read of 300 announced"
    )


def test_repeats_and_a_short_count_are_both_named():
    watch = walk((300, 100, 0), (300, 99, 1), (300, 100, 0))
    assert watch.movement() == (
        "1 lead(s) appeared on two pages; 299 distinct lead(s) were read of 300 announced"
    )
