"""Recorded figures: written only in a workspace, latest wins, torn lines skipped."""

import math

from mlcourse import layout, results


def workspace(tmp_path):
    layout.marker(tmp_path).mkdir(parents=True)
    layout.manifest_path(tmp_path).write_text("{}")
    return tmp_path


def test_nothing_is_written_outside_a_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert results.record("housing_end_to_end", "test_rmse", 42_000.0) is False
    assert not list(tmp_path.rglob("*.jsonl"))


def test_the_latest_value_wins_and_bad_values_are_refused(tmp_path, monkeypatch):
    ws = workspace(tmp_path)
    monkeypatch.chdir(ws)
    assert results.record("housing_end_to_end", "test_rmse", 50_000, unit="$")
    assert results.record("housing_end_to_end", "test_rmse", 42_834.2, unit="$")
    assert not results.record("housing_end_to_end", "test_rmse", math.nan)
    assert not results.record("housing_end_to_end", "test_rmse", "lots")
    with open(results.results_path(ws), "a") as handle:
        handle.write('{"project": "x", "metr\n')
    got = results.latest(ws)
    assert list(got) == [("housing_end_to_end", "test_rmse")]
    assert got[("housing_end_to_end", "test_rmse")].value == 42_834.2
