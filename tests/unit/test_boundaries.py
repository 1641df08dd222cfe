import pytest
from hypothesis import given, strategies as st

from orchestrator.scenarios.sticky.boundaries import compare, pieces


def test_merged_reads_and_split_messages():
    facts = compare([40] * 5, [200])
    assert facts["merged_reads"] == 1 and facts["split_messages"] == 0 and facts["messages_per_read"] == [5]
    facts = compare([3000, 40], [1024, 1024, 992])
    assert pieces([3000, 40], [1024, 1024, 992]) == [[(0, 1024)], [(0, 1024)], [(0, 952), (1, 40)]]
    assert facts["merged_reads"] == 1 and facts["split_messages"] == 1


def test_one_read_per_message_is_neither():
    assert compare([10, 0, 20], [10, 20])["merged_reads"] == 0 == compare([10, 20], [10, 20])["split_messages"]


def test_reading_more_than_was_written_is_an_error():
    with pytest.raises(ValueError, match="more than"):
        pieces([1], [2])


@given(st.lists(st.integers(min_value=0, max_value=500), max_size=30), st.data())
def test_pieces_account_for_every_byte(sizes, data):
    total = sum(sizes)
    cuts = sorted(set(data.draw(st.lists(st.integers(min_value=0, max_value=total), max_size=30))) | {0, total})
    chunks = [b - a for a, b in zip(cuts, cuts[1:])]
    held = pieces(sizes, chunks)
    assert [sum(n for _, n in chunk) for chunk in held] == chunks
    per_message = {}
    for chunk in held:
        for index, n in chunk:
            per_message[index] = per_message.get(index, 0) + n
    assert per_message == {i: s for i, s in enumerate(sizes) if s}
