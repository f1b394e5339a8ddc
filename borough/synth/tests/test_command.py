import json

from django.core.management import call_command


def test_synth_command_writes_a_borough(tmp_path, capsys):
    call_command("synth", residents=150, seed=4, out=str(tmp_path), quiet=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["residents"] == 150 and manifest["seed"] == 4
    assert (tmp_path / "ground_truth.csv").stat().st_size > 0
    assert "150 residents" in capsys.readouterr().out


def test_synth_command_shows_progress_on_stderr(tmp_path, capsys):
    call_command(
        "synth", "--residents", "150", "--out", str(tmp_path), "--start-date", "2025-01-01"
    )
    err = capsys.readouterr().err
    assert "chunk 1/1" in err
    assert json.loads((tmp_path / "manifest.json").read_text())["start_date"] == "2025-01-01"


def test_synth_command_is_silent_at_verbosity_zero(tmp_path, capsys):
    call_command("synth", residents=120, out=str(tmp_path), verbosity=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert (tmp_path / "manifest.json").exists()
