"""The cyclic garbage collector is paused around bulk loops and always resumed."""

import gc

import pytest

from ccmops.platform.collector import collector_paused


def test_the_collector_is_paused_in_the_block_and_resumed_after_it_even_on_error():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still paused, and the outer block resumes it
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a bulk loop fails")
    assert gc.isenabled()


def test_a_collector_paused_outside_stays_paused():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
