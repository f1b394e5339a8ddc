from collections import Counter

from borough.synth import SOURCE_FILES

# The column that identifies a record; rows naming two people get a truth row per person.
RECORD_ID = {
    "council_tax": ("ACCOUNT_REF", ["LIABLE_PARTY_1", "LIABLE_PARTY_2"]),
    "electoral_register": ("ELECTOR_NUMBER", None),
    "housing_tenancies": ("TENANT_REF", None),
    "housing_benefit": ("CLAIM_REF", ["CLAIMANT_FORENAME", "PARTNER_FORENAME"]),
    "school_admissions": ("ADMISSION_ID", None),
    "freedom_pass": ("PASS_NUMBER", None),
    "parking_permits_history": ("PERMIT_REF", None),
}


def _expected_ids(borough, dataset):
    column, parties = RECORD_ID[dataset]
    ids = []
    for row in borough.rows(dataset):
        if parties is None:
            ids.append(row[column])
        else:
            ids += [f"{row[column]}#{k + 1}" for k, p in enumerate(parties) if row[p]]
    return ids


def test_every_source_record_has_exactly_one_truth_row(borough):
    truth = Counter((r["dataset"], r["record_id"]) for r in borough.rows("ground_truth"))
    assert set(RECORD_ID) == {f.removesuffix(".csv") for f in SOURCE_FILES}
    expected = Counter()
    for dataset in RECORD_ID:
        ids = _expected_ids(borough, dataset)
        assert ids, f"{dataset} is empty"
        assert len(ids) == len(set(ids)), f"{dataset} repeats a record id"
        expected.update((dataset, i) for i in ids)
    assert truth == expected


def test_every_truth_person_is_in_people(borough):
    people = {r["person_id"] for r in borough.rows("people")}
    truth_people = {r["person_id"] for r in borough.rows("ground_truth")}
    assert truth_people <= people
    assert len(truth_people) > 0.5 * borough.manifest["residents"]


def test_manifest_counts_the_rows_written(borough):
    for name, count in borough.manifest["rows"].items():
        assert len(borough.rows(name.removesuffix(".csv"))) == count, name
    assert borough.manifest["source_records"] == sum(
        borough.manifest["rows"][f] for f in SOURCE_FILES
    )


def test_the_borough_has_exactly_the_residents_asked_for(small_borough):
    living_here = [r for r in small_borough.rows("people") if r["current_uprn"]]
    assert len(living_here) == 200
    assert all(not r["date_of_death"] for r in living_here)
