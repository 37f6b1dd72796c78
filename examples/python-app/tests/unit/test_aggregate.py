from telemetry.aggregate import SensorStats, Store
from telemetry.readings import Reading


def test_stats_track_min_max_mean_and_alert():
    store = Store()
    for ts, temp in enumerate([20.0, 75.0, 25.0]):
        assert store.add(Reading("s1", temp, 50.0, ts))
    stats = store.stats("s1")
    assert (stats.count, stats.min_temperature, stats.max_temperature) == (3, 20.0, 75.0)
    assert stats.mean_temperature == 40.0
    assert stats.alert


def test_out_of_order_readings_are_ignored():
    store = Store()
    assert store.add(Reading("s1", 20.0, 50.0, 10))
    assert not store.add(Reading("s1", 99.0, 50.0, 5))
    assert store.stats("s1").count == 1


def test_empty_stats():
    assert SensorStats().as_dict() == {"count": 0, "min": None, "max": None, "mean": None, "alert": False}
    assert Store().stats("nope") is None
