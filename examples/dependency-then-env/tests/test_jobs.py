from scheduler import jobs


def test_next_run_adds_the_interval():
    assert jobs.next_run("2024-01-01T10:00:00", 90) == "2024-01-01T11:30:00"


def test_timezone_comes_from_the_environment():
    assert jobs.timezone() == "UTC"
