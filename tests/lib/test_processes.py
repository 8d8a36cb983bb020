"""The interrupts of a load: held over a step that must not stop halfway, and recorded even
where some code swallowed the exception of one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from orchestration.lib.processes import interrupted, interrupts_held, interrupts_recorded


def _signal_myself(number: int) -> None:
    os.kill(os.getpid(), number)
    time.sleep(0.05)  # a handler runs at the latest when the sleep is interrupted


@pytest.fixture
def sigterm_as_interrupt():
    """SIGINT and SIGTERM raise KeyboardInterrupt, as in a load (runner._sigterm_as_interrupt).
    Both are set here: a process started in the background by a shell without job control
    inherits SIGINT ignored, and Dagster gives SIGTERM the handler SIGINT has."""
    previous = {number: signal.signal(number, signal.default_int_handler)
                for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in previous.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_in_a_held_block_acts_once_the_block_has_ended(sigterm_as_interrupt, number):
    steps = []
    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            _signal_myself(number)
            steps.append("after the signal")
            _signal_myself(number)  # a second one: still one interrupt
            steps.append("the end of the block")
        steps.append("after the block")
    assert steps == ["after the signal", "the end of the block"]
    assert {n: signal.getsignal(n) for n in handlers} == handlers


def test_a_held_block_without_an_interrupt_ends_as_it_would(sigterm_as_interrupt):
    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    with interrupts_held():
        pass
    assert {n: signal.getsignal(n) for n in handlers} == handlers
    with pytest.raises(ValueError), interrupts_held():
        raise ValueError("an error of the block goes on as it is")


def test_a_sigterm_held_where_it_would_end_the_process_ends_it_after_the_block():
    """With SIGTERM's default action (no handler in Python), the process ends by SIGTERM once
    the block has done its work."""
    code = ("import os, signal, time\n"
            "from orchestration.lib.processes import interrupts_held\n"
            "signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not what this process inherited\n"
            "with interrupts_held():\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    time.sleep(0.05)\n"
            "    print('the block ended', flush=True)\n"
            "print('after the block', flush=True)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGTERM, done
    assert done.stdout == "the block ended\n", done


def test_an_interrupt_whose_exception_was_swallowed_is_still_known(sigterm_as_interrupt):
    assert not interrupted()  # outside a recording block: nothing is known
    with interrupts_recorded():
        assert not interrupted()
        try:
            _signal_myself(signal.SIGTERM)
        except BaseException:  # noqa: BLE001 - as some library's bare `except:` does
            pass
        assert interrupted()
        assert interrupted()  # it stays known for the rest of the block
    assert not interrupted()
    with interrupts_recorded():  # a new block knows nothing of the last one
        assert not interrupted()
        try:
            _signal_myself(signal.SIGINT)
        except KeyboardInterrupt:
            pass
        assert interrupted()


def test_other_signals_are_no_interrupt(sigterm_as_interrupt):
    previous = signal.signal(signal.SIGUSR1, lambda *_: None)
    try:
        with interrupts_recorded():
            _signal_myself(signal.SIGUSR1)
            assert not interrupted()
    finally:
        signal.signal(signal.SIGUSR1, previous)
