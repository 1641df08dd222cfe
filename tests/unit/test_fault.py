import pytest
from hypothesis import given, strategies as st

from orchestrator.errors import LabError
from orchestrator.fault import Impairment


def test_parses_user_text():
    spec = Impairment.parse(delay="50ms", jitter="0.005s", loss="12.5%", rate="1.5mbit")
    assert spec == Impairment(delay_ms=50, jitter_ms=5, loss=12.5, rate_kbit=1500)
    assert spec.argv() == ["impair", "--delay-ms=50", "--jitter-ms=5", "--loss=12.5", "--rate-kbit=1500"]


def test_bare_number_is_milliseconds():
    assert Impairment.parse(delay="20").delay_ms == 20


@given(st.integers(min_value=1, max_value=10_000))
def test_milliseconds_round_trip_through_every_unit(ms):
    for text in (f"{ms}ms", f"{ms / 1000}s", f"{ms * 1000}us"):
        assert Impairment.parse(delay=text).delay_ms == ms


@pytest.mark.parametrize("kwargs, message", [
    ({"delay": "5x"}, "bad delay"), ({"delay": "-5ms"}, "bad delay"), ({"loss": "101%"}, "bad loss"),
    ({"loss": "lots"}, "bad loss"), ({"rate": "fast"}, "bad rate"), ({"rate": "0mbit"}, "bad rate"),
    ({"delay": "10ms", "jitter": "20ms"}, "cannot exceed"), ({}, "at least one"), ({"delay": "0ms"}, "at least one"),
])
def test_rejects_bad_values_in_one_line(kwargs, message):
    with pytest.raises(LabError, match=message) as caught:
        Impairment.parse(**kwargs)
    assert "\n" not in str(caught.value)
