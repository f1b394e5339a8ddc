"""``borough residents link`` and ``evaluate`` on the loaded synthetic borough."""

import json

import pandas as pd
import pytest
from django.core.management import call_command

from borough.residents.models import SourceRecord

pytestmark = pytest.mark.django_db


def test_link_builds_a_stable_resident_index_and_evaluate_scores_it(
    loaded, db, settings, synth, tmp_path, capsys
):
    settings.DATA_DIR = tmp_path
    call_command("residents", "link")
    out = capsys.readouterr().out
    assert "Linked" in out and "residents in" in out
    index = tmp_path / "linkage" / "residents.parquet"
    first = pd.read_parquet(index)
    assert len(first) == SourceRecord.objects.filter(ended_at__isnull=True).count()
    assert first["resident_id"].str.match(r"^R[0-9A-Z]+$").all()
    state = json.loads((tmp_path / "linkage" / "state.json").read_text())
    assert state["residents"] == first["resident_id"].nunique() < len(first)

    call_command("residents", "evaluate", "--truth", str(synth.file("ground_truth")), "--json")
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["pairwise"]["precision"] > 0.9
    assert figures["pairwise"]["recall"] > 0.8

    # Nothing changed, so a re-link keeps every resident's ID.
    call_command("residents", "link")
    out = capsys.readouterr().out
    second = pd.read_parquet(index)
    merged = first.merge(second, on="unique_id", suffixes=("_before", "_after"))
    assert (merged["resident_id_before"] == merged["resident_id_after"]).all()
    assert "no changes" in out


def test_evaluate_before_any_link_says_what_to_do(settings, tmp_path):
    from django.core.management.base import CommandError

    settings.DATA_DIR = tmp_path
    with pytest.raises(CommandError, match="not been linked yet"):
        call_command("residents", "evaluate")


def test_splinks_untrained_level_warnings_are_left_to_the_links_own_line(caplog):
    """The link says in one line which levels had no training pair (``m: no training pair in
    [...]``); Splink's one warning per level would repeat it, so only those are dropped."""
    import logging

    from borough.residents.linkage.session import silence_splink

    silence_splink()
    em = logging.getLogger("splink.internals.expectation_maximisation")
    with caplog.at_level(logging.WARNING):
        em.warning(
            "WARNING:\nLevel Within a year on comparison date_of_birth not observed in dataset, "
            "unable to train m value"
        )
        em.warning("EM did not converge")
    assert [r.getMessage() for r in caplog.records] == ["EM did not converge"]


def test_levels_without_training_pairs_are_counted_in_one_short_line():
    from borough.residents.linkage.training import _levels_in_short

    levels = [
        "surname_address: Same surname, same postcode sector",
        "surname_address: Other surname, address unknown",
        "email: Exact",
    ]
    assert _levels_in_short(levels) == "3 levels (surname_address 2, email 1)"
    assert _levels_in_short(["email: Exact"]) == "1 level (email 1)"
