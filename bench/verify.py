"""Online verification: how fast is one verification against the index of a borough's records?

``size`` is the number of source records in the index (default 1,000,000). A synthetic borough
of that size is generated, turned into the linkage frame (``synth_input``), linked with
``pipeline.link`` (train, predict, cluster), and written as the resident index that
``borough residents link`` writes (``verification.parquet``, the model, ``state.json``). Then:

- ``index``: building the in-memory candidate index from those files (seconds, memory);
- ``engine``: ``engine.decide`` per applicant, in this process (the decision alone);
- ``in_process``: ``service.verify`` per applicant, in this process: decision, the stored
  ``Verification`` and its data-use event written to SQLite;
- ``http``: ``POST /api/v1/verifications`` with an API key to ``borough runserver`` in another
  process, one request at a time (the index built in that process before timing);
- ``baseline``: Splink's own real-time look-up (``find_matches_to_new_records`` with the same
  model and blocking rules) on the same index, for a few applicants;
- ``same_decisions_as_splink``: for those applicants, the decision from Splink's scores equals
  the decision from ours.

Applicants are people of the synthetic borough living there now (their current details; one in
five with a typo in the surname), and people who are not in the records at all. Against the
ground truth, ``wrong_verifications`` are verified decisions none of whose proof records is the
applicant's own, and ``verified_with_another_persons_record_as_proof`` those whose proof also
lists someone else's record. Record
validity dates are not in the development frame, so every record counts as current here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

DEFAULT_SIZE = 1_000_000
SEED = 2
PILOT_RESIDENTS = 20_000
APPLICANTS = 2000
HTTP_APPLICANTS = 1000
BASELINE_APPLICANTS = 30
PURPOSE = "parking_permit_residency_check"


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
    }


def _applicants(folder: Path, n: int, seed: int) -> list[dict]:
    people = pd.read_csv(folder / "people.csv", dtype=str, keep_default_na=False)
    living = people[(people["date_of_death"] == "") & (people["current_uprn"] != "")]
    living = living[living["date_of_birth"] < "2006-01-01"]
    rng = random.Random(seed)
    chosen = living.sample(n=min(n, len(living)), random_state=seed)
    out = []
    for row in chosen.itertuples():
        surname = row.surname
        if rng.random() < 0.2 and len(surname) > 3:
            k = rng.randrange(1, len(surname))
            surname = surname[:k] + rng.choice("aeiou") + surname[k + 1 :]
        out.append(
            {
                "person_id": int(row.person_id),
                "first_name": row.first_name,
                "middle_names": row.middle_names,
                "surname": surname,
                "date_of_birth": row.date_of_birth,
                "uprn": int(row.current_uprn),
            }
        )
    uprns = [a["uprn"] for a in out]
    for k in range(max(1, n // 10)):
        out.append(
            {
                "person_id": None,
                "first_name": rng.choice(["Peregrine", "Ottoline", "Zebulon"]),
                "middle_names": "",
                "surname": f"Nobodyson{k}",
                "date_of_birth": f"19{rng.randrange(40, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)}",
                "uprn": rng.choice(uprns),
            }
        )
    rng.shuffle(out)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-verify-"))
    data = tmp / "data"
    (data / "linkage").mkdir(parents=True)
    os.environ["BOROUGH_DATA"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from borough.core.api_clients import create_client
    from borough.residents.index import write_verification_records
    from borough.residents.linkage import model as linkage_model
    from borough.residents.linkage import pipeline
    from borough.residents.linkage.stable_ids import assign_resident_ids
    from borough.residents.linkage.synth_input import records_from_synth, truth_from_synth
    from borough.residents.verification.candidates import Candidate, CandidateIndex
    from borough.residents.verification.engine import Applicant, decide
    from borough.residents.verification.policies import policies
    from borough.residents.verification.scoring import Score, probability
    from borough.residents.verification.service import HOLDER, verify
    from borough.synth import generate

    server = None
    try:
        pilot = generate(tmp / "pilot", residents=PILOT_RESIDENTS, seed=SEED, workers=1)
        per_resident = pilot["rows"]["ground_truth.csv"] / PILOT_RESIDENTS
        residents = math.ceil(size / per_resident * 1.01)
        shutil.rmtree(tmp / "pilot")
        progress(f"pilot: {per_resident:.3f} records per resident -> {residents:,} residents")
        manifest = generate(tmp / "borough", residents=residents, seed=SEED, workers=2)
        progress(f"generated {manifest['source_records']:,} source rows")
        frame = records_from_synth(tmp / "borough")
        progress(f"linkage frame: {len(frame):,} records; linking")
        started = time.perf_counter()
        result = pipeline.link(frame, workdir=data / "linkage", progress=progress)
        link_seconds = time.perf_counter() - started
        frame["valid_from"] = None
        frame["valid_to"] = None
        ids = assign_resident_ids(result.clusters, None, issued=0).ids
        verification_path = data / "linkage" / "verification.parquet"
        write_verification_records(frame, ids, verification_path)
        state = {
            "issued": 0,
            "linked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "records": len(frame),
            "model": str(result.model_path),
            "predictions": str(result.predictions_path),
            "clusters": str(result.clusters_path),
            "verification": str(verification_path),
        }
        (data / "linkage" / "state.json").write_text(json.dumps(state))
        records = len(frame)
        del frame, result, ids
        progress(f"linked in {link_seconds:.1f}s; building the candidate index")

        trained = pipeline.load_model(state["model"])
        before = _rss_mb()
        started = time.perf_counter()
        index = CandidateIndex.from_parquet(verification_path, trained)
        index_seconds = time.perf_counter() - started
        index_mb = _rss_mb() - before
        progress(f"index: {index.size:,} records in {index_seconds:.1f}s, +{index_mb:.0f} MB")

        policy = policies()[PURPOSE]
        applicants = _applicants(tmp / "borough", APPLICANTS, SEED)
        today = dt.date(2026, 11, 25)

        def as_applicant(a: dict) -> Applicant:
            return Applicant(
                first_name=a["first_name"],
                middle_names=a["middle_names"],
                surname=a["surname"],
                date_of_birth=dt.date.fromisoformat(a["date_of_birth"]),
                uprn=a["uprn"],
            )

        engine_times, outcomes = [], []
        for a in applicants:
            applicant = as_applicant(a)
            t = time.perf_counter()
            outcome = decide(index, policy, applicant.prepared(), today=today)
            engine_times.append(time.perf_counter() - t)
            outcomes.append(outcome)
        decisions = pd.Series([o.decision for o in outcomes]).value_counts().to_dict()
        # against the ground truth: a verification none of whose proof is the applicant's own
        # record is wrong; one that also lists someone else's record as proof misleads
        truth_frame = truth_from_synth(tmp / "borough")
        truth = dict(zip(truth_frame["unique_id"], truth_frame["person_id"], strict=True))
        del truth_frame
        wrong, others_listed, real, real_verified = 0, 0, 0, 0
        for a, o in zip(applicants, outcomes, strict=True):
            real += a["person_id"] is not None
            if o.decision != "verified":
                continue
            real_verified += a["person_id"] is not None
            proof = [e.unique_id for e in o.evidence if e.counts]
            wrong += all(truth.get(u) != a["person_id"] for u in proof)
            others_listed += any(truth.get(u) != a["person_id"] for u in proof)
        candidates = [o.candidates for o in outcomes]
        progress(f"engine: {_percentiles(engine_times)} decisions {decisions}")

        # Splink's real-time look-up on the same index, and its decisions
        import duckdb
        from splink import DuckDBAPI, Linker

        con = duckdb.connect(":memory:")
        con.execute(
            "CREATE TABLE records AS "
            + linkage_model.PREPARE_SQL.format(
                source=linkage_model.source_sql(
                    f"read_parquet('{verification_path}')",
                    pq.read_schema(verification_path).names,
                )
            )
        )
        linker = Linker("records", trained, DuckDBAPI(con), set_up_basic_logging=False)
        linker.table_management.compute_tf_table("first_name")
        linker.table_management.compute_tf_table("surname")
        uid = None
        baseline_times, same = [], 0
        for n, a in enumerate(applicants[:BASELINE_APPLICANTS]):
            prepared = as_applicant(a).prepared()
            row = {
                "rid": 10**9 + n,
                "unique_id": f"applicant:{n}",
                "first_name": prepared.first_name,
                "first_name_canonical": prepared.first_name_canonical,
                "middle_names": prepared.middle_names,
                "middle_initial": prepared.middle_initial,
                "surname": prepared.surname,
                "surname_first_part": prepared.surname_first_part,
                "surname_last_part": prepared.surname_last_part,
                "dob": dt.date(1970, 1, 1) + dt.timedelta(days=prepared.dob.days)
                if prepared.dob
                else None,
                "postcode": prepared.postcode,
                "postcode_sector": prepared.postcode_sector,
                "uprn": prepared.uprn,
                "address_numbers": prepared.address_numbers,
                "email": prepared.email,
            }
            t = time.perf_counter()
            found = linker.inference.find_matches_to_new_records(
                [row],
                blocking_rules=linkage_model.PREDICTION_BLOCKING_RULES,
                match_weight_threshold=-1e9,
            ).as_pandas_dataframe()
            baseline_times.append(time.perf_counter() - t)
            if uid is None:
                uid = dict(con.execute("SELECT rid, unique_id FROM records").fetchall())
            ours = {index.unique_id(c.index): c for c in index.score_candidates(prepared)}
            scored = []
            for r in found.itertuples():
                other = r.rid_r if r.rid_l == row["rid"] else r.rid_l
                c = ours.get(uid[other])
                if c is not None:
                    scored.append(
                        Candidate(
                            c.index,
                            c.record,
                            Score(r.match_weight, probability(r.match_weight), c.score.levels),
                        )
                    )
            scored.sort(key=lambda c: -c.score.match_weight)
            theirs = decide(index, policy, prepared, today=today, scored=scored)
            mine = outcomes[n]
            same += (theirs.decision, theirs.resident_id) == (
                mine.decision,
                mine.resident_id,
            ) and len(scored) == len(found) == mine.candidates
        con.close()
        progress(
            f"baseline (Splink real-time): {_percentiles(baseline_times)}; same {same}/{BASELINE_APPLICANTS}"
        )

        # in-process service: decision + stored verification + data-use event (SQLite)
        call_command("migrate", verbosity=0)
        HOLDER.index, HOLDER.key = index, HOLDER._key(data / "linkage")
        service_times = []
        for a in applicants:
            applicant = as_applicant(a)
            t = time.perf_counter()
            verify(applicant, PURPOSE, actor_label="Benchmark")
            service_times.append(time.perf_counter() - t)
        progress(f"in-process service: {_percentiles(service_times)}")
        del index
        HOLDER.clear()

        # over HTTP
        # its own rate limit, far above what one client sends here (docs/rate-limits.md): the
        # benchmark measures verification, not the limit's refusals
        _, key = create_client("Benchmark client", ["verify"], requests_per_minute=10_000_000)
        port = _free_port()
        env = {**os.environ, "BOROUGH_DATA": str(data)}
        server = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/api/v1/verifications"

        def post(a: dict) -> dict:
            details = {k: v for k, v in a.items() if k != "person_id"}
            body = json.dumps({"purpose": PURPOSE, "applicant": details}).encode()
            request = urllib.request.Request(
                url,
                data=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())

        deadline = time.time() + 60
        while True:
            try:
                started = time.perf_counter()
                post(applicants[0])  # builds the server's index
                warm_seconds = time.perf_counter() - started
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        progress(f"server ready; first request (index build) {warm_seconds:.1f}s")
        http_times, http_same = [], 0
        for n, a in enumerate(applicants[:HTTP_APPLICANTS]):
            t = time.perf_counter()
            answer = post(a)
            http_times.append(time.perf_counter() - t)
            # a machine client is told who matched only when the details are verified
            told = outcomes[n].resident_id if outcomes[n].decision == "verified" else None
            http_same += (answer["decision"], answer["resident_id"]) == (
                outcomes[n].decision,
                told,
            )
        progress(
            f"http: {_percentiles(http_times)}; same as in-process {http_same}/{HTTP_APPLICANTS}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    return {
        "records": records,
        "residents": manifest["residents"],
        "link_seconds": round(link_seconds, 1),
        "index": {"seconds": round(index_seconds, 2), "rss_mb": round(index_mb, 1)},
        "applicants": len(applicants),
        "decisions": decisions,
        "residents_applying": real,
        "residents_verified": real_verified,
        "verified_share_of_residents": round(real_verified / real, 4),
        "wrong_verifications": wrong,
        "verified_with_another_persons_record_as_proof": others_listed,
        "candidates_per_lookup": {
            "mean": round(float(np.mean(candidates)), 1),
            "max": int(np.max(candidates)),
        },
        "engine": _percentiles(engine_times),
        "in_process": _percentiles(service_times),
        "http": {**_percentiles(http_times), "first_request_s": round(warm_seconds, 2)},
        "http_same_decisions_as_in_process": f"{http_same}/{HTTP_APPLICANTS}",
        "baseline_splink_realtime": _percentiles(baseline_times),
        "same_decisions_as_splink": f"{same}/{BASELINE_APPLICANTS}",
        "peak_rss_mb": round(_peak_mb(), 1),
    }
