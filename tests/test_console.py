"""Progress lines for long work: counts, rate, time left."""


def test_progress_lines_give_counts_rate_and_time_left(capsys):
    from textrnn.util.console import Progress
    progress = Progress("work", total=1000, unit="texts", every=400)
    for _ in range(10):
        progress.add(100)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and "work: 400/1,000 texts" in lines[0] and "left" in lines[0]
    assert "work: 800/1,000 texts" in lines[1]


def test_fast_work_prints_at_most_one_line_per_interval(capsys):
    from textrnn.util.console import Progress
    progress = Progress("work", total=1000, unit="lines", every=100, seconds=3600.0)
    for _ in range(10):
        progress.add(100)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "work: 100/1,000 lines" in lines[0]
