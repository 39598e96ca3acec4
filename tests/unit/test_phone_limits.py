"""A phone's limits are taken before the work and given back only when no work was done."""

from __future__ import annotations

import pytest
from limits import parse

from stage.errors import InvalidInput, RateLimited
from stage.phone_limits import PhoneLimits


def refuse() -> None:
    raise InvalidInput("the story is empty", code="empty")


def test_a_slot_is_taken_before_the_work_and_kept_only_for_a_new_record_or_a_worker():
    limits = PhoneLimits(parse("3 per 10 seconds"))
    with limits.submission("p") as slot:
        slot.created = True
    with pytest.raises(InvalidInput):
        with limits.submission("p"):
            refuse()  # refused before any work: given back
    with limits.submission("p"):
        pass  # a retry (nothing created): given back
    with pytest.raises(InvalidInput):
        with limits.submission("p") as slot:
            slot.worked = True  # a media worker ran, then refused the file: kept
            refuse()
    with limits.submission("p") as inner:  # the third and last one
        with pytest.raises(RateLimited):  # reserved, not yet committed: the next one is refused already
            with limits.submission("p"):
                pass
        inner.created = True
    with pytest.raises(RateLimited):
        with limits.submission("p"):
            pass


def test_uploads_in_flight_are_capped_per_phone_and_freed_when_done_or_failed():
    limits = PhoneLimits(uploads_in_flight=2)
    with limits.upload("p"), limits.upload("p"):
        with pytest.raises(RateLimited) as busy:
            with limits.upload("p"):
                pass
        assert busy.value.code == "busy" and "2 uploads" in busy.value.message
        with limits.upload("q"):  # another phone is not held up
            pass
    with pytest.raises(InvalidInput):
        with limits.upload("p"):
            refuse()
    with limits.upload("p"), limits.upload("p"):
        pass


def test_media_workers_are_capped_server_wide_and_a_refusal_costs_no_submission():
    limits = PhoneLimits(parse("3 per 10 seconds"), media_workers=2)
    with limits.media_worker() as first, limits.media_worker() as second:
        assert (first, second) == (1, 2)
        with pytest.raises(RateLimited) as refused:
            with limits.submission("another phone"), limits.media_worker():
                pass
        assert refused.value.code == "busy"
    with limits.media_worker() as running:  # the slots came back
        assert running == 1
    for _ in range(3):  # the busy refusal gave its submission back: three more fit the window
        with limits.submission("another phone") as slot:
            slot.created = True
