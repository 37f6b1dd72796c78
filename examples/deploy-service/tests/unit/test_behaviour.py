import pytest
from sensorapi.behaviour import Behaviour, reading


def test_a_healthy_version_always_answers_200():
    b = Behaviour(error_rate=0.0)
    assert {b.api_status() for _ in range(500)} == {200}


def test_the_error_rate_is_what_was_asked_for_and_reproducible():
    statuses = [Behaviour(error_rate=0.2, seed=7).api_status() for _ in range(1)]
    b1, b2 = Behaviour(error_rate=0.2, seed=7), Behaviour(error_rate=0.2, seed=7)
    run1 = [b1.api_status() for _ in range(2000)]
    assert run1 == [b2.api_status() for _ in range(2000)]
    assert 0.17 < run1.count(500) / 2000 < 0.23
    assert statuses[0] in (200, 500)


def test_flapping_health_passes_first_then_fails_every_nth():
    b = Behaviour(flap_every=3)
    assert [b.health_status() for _ in range(7)] == [200, 200, 503, 200, 200, 503, 200]


@pytest.mark.parametrize("kwargs", [{"error_rate": 1.5}, {"extra_ms": -1}, {"flap_every": -2}])
def test_impossible_behaviour_is_refused(kwargs):
    with pytest.raises(ValueError):
        Behaviour(**kwargs)


def test_readings_are_deterministic_and_tagged_with_the_version():
    assert reading("boiler", "v2") == reading("boiler", "v2")
    assert reading("boiler", "v2")["version"] == "v2"
    assert 0 <= reading("attic", "v1")["celsius"] < 40
