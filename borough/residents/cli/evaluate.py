"""``borough residents evaluate``: compare the latest link with a ground truth file."""

import json
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.management.base import CommandError

from borough.residents.index import latest_run
from borough.residents.linkage.evaluate import evaluate
from borough.residents.linkage.pipeline import CLUSTER_THRESHOLD
from borough.transparency.coverage import data_use

DATA_USE = data_use(
    none="Compares the last link with a file of known true matches (the synthetic borough's); "
    "prints counts only"
)

NAME = "evaluate"
HELP = (
    "Precision, recall and F1 of the latest link, for pairs and for clusters, against a ground "
    "truth CSV with columns dataset, record_id, person_id (the synthetic borough writes one)."
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--truth",
        help="Ground truth CSV (default: the demo's synthetic borough's ground_truth.csv)",
    )
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON")


def _truth(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str)
    except FileNotFoundError:
        raise CommandError(f"There is no ground truth file {path}.") from None
    missing = {"dataset", "record_id", "person_id"} - set(frame.columns)
    if missing:
        raise CommandError(f"{path} needs the columns {', '.join(sorted(missing))}.")
    return pd.DataFrame(
        {"unique_id": frame["dataset"] + ":" + frame["record_id"], "person_id": frame["person_id"]}
    )


def run(command, options: dict) -> None:
    try:
        state = latest_run()
    except ValueError as error:
        raise CommandError(str(error)) from None
    truth_path = Path(options["truth"] or Path(settings.DATA_DIR) / "synth" / "ground_truth.csv")
    figures = evaluate(
        pd.read_parquet(state["predictions"]),
        pd.read_parquet(state["clusters"]),
        _truth(truth_path),
        CLUSTER_THRESHOLD,
    )
    if options["json"]:
        command.stdout.write(json.dumps(figures, default=str))
        return
    pair = figures["pairwise"]
    command.stdout.write(f"Linked {state['records']:,} records on {state['linked_at']}.")
    command.stdout.write(
        f"Pairs:    precision {pair['precision']:.4f}  recall {pair['recall']:.4f}  "
        f"F1 {pair['f1']:.4f}"
    )
    clusters = figures.get("cluster_pairs")
    if isinstance(clusters, dict):
        command.stdout.write(
            f"Clusters: precision {clusters['precision']:.4f}  recall {clusters['recall']:.4f}  "
            f"F1 {clusters['f1']:.4f}  (every pair of records in one resident)"
        )
    others = {
        k: v for k, v in figures.items() if k not in {"pairwise", "threshold", "cluster_pairs"}
    }
    for key, value in others.items():
        command.stdout.write(f"{key.replace('_', ' ')}: {value}")
