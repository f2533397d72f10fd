"""Sequences the generated runs once failed on, kept as named examples (each replays the steps it found)."""

from __future__ import annotations

import pytest

from sequences.machine import MOVIES, SequenceMachine


@pytest.fixture
def machine():
    made = SequenceMachine()
    made.start_world()
    try:
        yield made
    finally:
        made.teardown()


@pytest.mark.slow
def test_undo_of_a_run_cut_off_mid_write_keeps_simkl_s_own_watch(machine: SequenceMachine) -> None:
    """Simkl keeps one watch per episode: undoing an unconfirmed history batch sent Simkl a removal of the play
    the run meant to add, and Simkl dropped the episode's own, older watch with it (Breaking Bad S01E02)."""
    machine.command("down_mid_write:simkl")
    machine.user_adds_to_watchlist("trakt", MOVIES[0])
    machine.undo_run(machine.runs[-1])
    machine.nothing_held_twice()


@pytest.mark.slow
def test_a_removal_before_the_first_sync_is_no_removal(machine: SequenceMachine) -> None:
    """Without a baseline nothing counts as removed: the first sync puts the title back (the model once
    expected it gone everywhere)."""
    machine.remove_from_watchlist("trakt", "tt0468569")  # The Dark Knight, on Trakt's sample watchlist
    machine.command("sync")
    machine.command("twice")
