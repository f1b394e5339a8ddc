"""The Parquet files are the interface for a bigger engine: Spark reads them and gets the
same totals as DuckDB."""

from __future__ import annotations

import os
import shutil

import pytest

from borough.insights import warehouse
from borough.insights.build import build
from borough.insights.tests.factories import make_small_borough

pytestmark = [pytest.mark.django_db, pytest.mark.spark]


@pytest.fixture
def spark():
    pytest.importorskip("pyspark", reason="reading the warehouse with Spark needs pyspark")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Spark needs Java 17 or later (none on the PATH or JAVA_HOME)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("borough-warehouse-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_reads_the_parquet_and_gets_the_same_totals_as_duckdb(settings, tmp_path, spark):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    make_small_borough()
    build()
    parquet = warehouse.parquet_path()
    query = """SELECT f.payment_method, f.year, f.month, count(*) AS n, sum(f.amount_pence) AS pence
        FROM ledger f JOIN accounts a ON a.account_key = f.account_key
        GROUP BY f.payment_method, f.year, f.month ORDER BY 1, 2, 3"""

    spark.read.parquet(str(parquet / "fact_rent_ledger")).createOrReplaceTempView("ledger")
    spark.read.parquet(str(parquet / "dim_rent_account")).createOrReplaceTempView("accounts")
    by_spark = [tuple(row) for row in spark.sql(query).collect()]

    with warehouse.connect() as con:
        con.execute("CREATE TEMP VIEW ledger AS SELECT * FROM fact_rent_ledger")
        con.execute("CREATE TEMP VIEW accounts AS SELECT * FROM dim_rent_account")
        by_duckdb = con.execute(query).fetchall()

    assert by_spark == by_duckdb
    assert len(by_spark) == 6  # charges, DD and SO payments, in October and in November
