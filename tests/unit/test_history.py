from hypothesis import given, strategies as st

from orchestrator.scenarios.queue.history import check


def test_a_clean_history():
    facts = check([1, 2, 3], [3, 1, 2])
    assert facts["ok"] and facts["lost"] == [] and facts["duplicated"] == {} and facts["consumed"] == 3


def test_lost_duplicated_and_unexpected_are_told_apart():
    facts = check([1, 2, 3, 4], [1, 1, 1, 2, 9])
    assert facts["lost"] == [3, 4] and facts["duplicated"] == {1: 3} and facts["duplicated_count"] == 2
    assert facts["unexpected"] == [9] and not facts["ok"]


def test_duplicates_alone_do_not_fail_an_at_least_once_queue():
    assert check([1, 2], [1, 2, 2])["ok"]


@given(st.sets(st.integers(0, 200)), st.data())
def test_every_produced_id_is_accounted_for(produced, data):
    consumed = data.draw(st.lists(st.sampled_from(sorted(produced))) if produced else st.just([]))
    facts = check(produced, consumed)
    assert facts["distinct_consumed"] + facts["lost_count"] == facts["produced"] == len(produced)
    assert facts["consumed"] == len(consumed) and facts["unexpected"] == []
