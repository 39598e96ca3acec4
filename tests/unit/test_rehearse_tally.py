"""The rehearsal's connected peak: exact, whatever report interval the joins and drops fell in."""

from __future__ import annotations

from stage.rehearse.tally import Tally


def test_phones_joined_and_dropped_within_one_report_all_count_in_the_peak():
    # Issue 15: the server stopped right after the last joins, so the second report carried four
    # joins and all eight drops; the peak was taken from the totals at each report and came out 4.
    worker, coordinator = Tally(), Tally()
    for _ in range(4):
        worker.joined()
    coordinator.add(worker.take_delta())
    for _ in range(4):
        worker.joined()
    for _ in range(8):
        worker.ended("dropped")
    coordinator.add(worker.take_delta())
    figures = coordinator.figures(8)
    assert figures["phones_connected"] == 8
    assert figures["dropped"] == 8 and figures["phones_at_end"] == 0


def test_the_peak_merges_the_workers_by_time_not_by_report():
    first, second, coordinator = Tally(), Tally(), Tally()
    for _ in range(3):
        first.joined()
    for _ in range(5):
        second.joined()
    first.ended("dropped", 3)
    second.ended("dropped", 5)
    coordinator.add(first.take_delta())  # the first worker's report, joins and drops, arrives whole first
    coordinator.add(second.take_delta())
    assert coordinator.figures(8)["phones_connected"] == 8


def test_phones_that_left_before_others_joined_are_not_counted_twice():
    worker, coordinator = Tally(), Tally()
    for _ in range(4):
        worker.joined()
    worker.ended("left", 4)
    for _ in range(4):
        worker.joined()
    coordinator.add(worker.take_delta())
    figures = coordinator.figures(8)
    assert figures["phones_connected"] == 4 and figures["phones_at_end"] == 4


def test_a_phone_dropped_at_its_join_still_joined_once():
    worker = Tally()
    worker.joined()
    worker.ended("dropped")
    assert worker.peak_connected() == 1 and worker.connected == 0
