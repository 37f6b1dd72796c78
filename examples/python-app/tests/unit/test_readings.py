import pytest

from telemetry.readings import Reading, ReadingError, parse_line


def test_parse_valid_line():
    assert parse_line("greenhouse-1, 21.5, 40, 1700000000") == Reading("greenhouse-1", 21.5, 40.0, 1700000000)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a,1,2", "expected 4 fields"),
        ("Bad Id,1,2,3", "bad sensor id"),
        ("s1,warm,2,3", "not a number"),
        ("s1,200,2,3", "temperature 200.0 out of range"),
        ("s1,20,120,3", "humidity 120.0 out of range"),
        ("s1,20,50,-1", "timestamp must not be negative"),
    ],
)
def test_invalid_lines_say_why(line, message):
    with pytest.raises(ReadingError, match=message):
        parse_line(line)
