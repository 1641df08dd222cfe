import pytest
from hypothesis import given, strategies as st

from orchestrator.errors import BadParameter, LabError
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


@pytest.mark.parametrize("kwargs, name", [
    ({"delay": "5x"}, "delay"), ({"delay": "-5ms"}, "delay"), ({"loss": "101%"}, "loss"), ({"loss": "lots"}, "loss"),
    ({"rate": "fast"}, "rate"), ({"rate": "0mbit"}, "rate"), ({"delay": "10ms", "jitter": "20ms"}, "jitter"),
])
def test_rejects_bad_values_naming_the_parameter(kwargs, name):
    with pytest.raises(BadParameter) as caught:
        Impairment.parse(**kwargs)
    assert caught.value.name == name and caught.value.value == kwargs[name] and "\n" not in str(caught.value)


@pytest.mark.parametrize("kwargs", [{}, {"delay": "0ms"}])
def test_an_impairment_that_does_nothing_is_refused(kwargs):
    with pytest.raises(LabError, match="at least one"):
        Impairment.parse(**kwargs)
