"""The Spark settings ``borough residents link --backend spark`` starts with: computed from
the data's size, the Spark environment over them, explicit options over both; and clear
errors for a bad ``--spark-conf`` or an unreachable ``--spark-master``."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from django.core.management.base import CommandError

from borough.residents.cli import link as link_command
from borough.residents.linkage import model, pipeline, spark_config

GIB = 1024**3


def test_driver_memory_and_partitions_follow_the_records():
    big = 24 * GIB
    assert spark_config.driver_memory_gib(1_336, big) == 3
    assert spark_config.driver_memory_gib(100_000, big) == 3
    assert spark_config.driver_memory_gib(1_000_000, big) == 6
    assert spark_config.driver_memory_gib(2_500_000, big) == 12
    # never more than half the machine, never less than 2 GiB
    assert spark_config.driver_memory_gib(10_000_000, big) == 12
    assert spark_config.driver_memory_gib(1_000_000, 3 * GIB) == 2
    assert spark_config.shuffle_partitions(1_336, 2) == 4
    assert spark_config.shuffle_partitions(100_000, 2) == 5
    assert spark_config.shuffle_partitions(1_000_000, 2) == 50
    assert spark_config.shuffle_partitions(1_000_000, 64) == 128


def test_computed_settings_in_local_mode_and_on_a_cluster():
    local = spark_config.computed_settings(
        1_000_000,
        cpus=2,
        memory_bytes=24 * GIB,
        local=True,
        local_dir="/w/spark/local",
        checkpoint_dir="/w/spark/checkpoints",
    )
    assert local["spark.driver.memory"] == "6g"
    assert local["spark.driver.maxResultSize"] == "3g"
    assert local["spark.sql.shuffle.partitions"] == "50"
    assert local["spark.local.dir"] == "/w/spark/local"
    assert local["spark.checkpoint.dir"] == "/w/spark/checkpoints"
    cluster = spark_config.computed_settings(
        1_000_000, cpus=2, memory_bytes=24 * GIB, local=False, local_dir="/w", checkpoint_dir="/c"
    )
    # scratch space on this machine means nothing to a cluster's executors
    assert "spark.local.dir" not in cluster
    assert "spark.checkpoint.dir" not in cluster


def test_spark_conf_options_are_parsed_and_bad_ones_named():
    assert spark_config.parse_spark_conf(
        ["spark.driver.memory=8g", "spark.sql.shuffle.partitions = 64", "spark.x.y=a=b"]
    ) == {"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "64", "spark.x.y": "a=b"}
    for bad in ("spark.driver.memory", "driver.memory=8g", "spark.driver.memory=", "=8g"):
        with pytest.raises(ValueError, match="KEY=VALUE"):
            spark_config.parse_spark_conf([bad])
    with pytest.raises(ValueError, match="amount of memory"):
        spark_config.parse_spark_conf(["spark.executor.memory=lots"])


def test_the_spark_environment_is_read_as_spark_submit_reads_it():
    env = {
        "SPARK_DRIVER_MEMORY": "5g",
        "PYSPARK_SUBMIT_ARGS": "--master spark://h:7077 --driver-memory 9g "
        "--conf spark.sql.shuffle.partitions=300 --conf=spark.a.b=c pyspark-shell",
    }
    defaults = "# comment\nspark.master yarn\nspark.executor.memory   16g\nspark.driver.memory=4g\n"
    master, settings = spark_config.environment_settings(env, defaults)
    assert master == "spark://h:7077"
    assert settings == {
        "spark.driver.memory": "9g",
        "spark.executor.memory": "16g",
        "spark.sql.shuffle.partitions": "300",
        "spark.a.b": "c",
    }
    assert spark_config.environment_settings({}, defaults)[0] == "yarn"
    assert spark_config.environment_settings({"SPARK_MASTER": "local[1]"}, "")[0] == "local[1]"
    assert spark_config.environment_settings({"MASTER": "local[3]"}, "")[0] == "local[3]"
    assert spark_config.environment_settings({}, "") == (None, {})


def test_an_explicit_setting_wins_over_the_environment_over_the_computed_one():
    env = {"PYSPARK_SUBMIT_ARGS": "--conf spark.sql.shuffle.partitions=300 pyspark-shell"}
    chosen = spark_config.plan(
        1_000_000,
        conf={"spark.driver.memory": "10g"},
        env=env,
        defaults_text="",
        cpus=2,
        memory_bytes=24 * GIB,
        local_dir="/w/local",
    )
    assert chosen.master == "local[*]"
    assert chosen.master_source == "default"
    assert chosen.settings["spark.driver.memory"] == "10g"
    assert chosen.sources["spark.driver.memory"] == "option"
    assert chosen.settings["spark.sql.shuffle.partitions"] == "300"
    assert chosen.sources["spark.sql.shuffle.partitions"] == "environment"
    assert chosen.sources["spark.default.parallelism"] == "computed"
    # what the environment gives is left to spark-submit, not passed again
    assert "spark.sql.shuffle.partitions" not in chosen.to_pass()
    assert chosen.to_pass()["spark.driver.memory"] == "10g"
    line = chosen.describe()
    assert "master local[*] (default)" in line
    assert "spark.driver.memory=10g (option)" in line
    # local[N] counts N cores; an explicit master wins over the environment's
    on_one = spark_config.plan(
        1_000,
        master="local[1]",
        env={"MASTER": "yarn"},
        defaults_text="",
        cpus=8,
        memory_bytes=24 * GIB,
    )
    assert (on_one.master, on_one.master_source) == ("local[1]", "option")
    assert on_one.settings["spark.sql.shuffle.partitions"] == "2"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_master_that_cannot_be_reached_or_is_not_a_master_is_refused():
    for fine in ("local", "local[2]", "local[*]", "yarn", "k8s://https://k:6443"):
        spark_config.check_master(fine)
    with pytest.raises(ValueError, match="cannot be reached"):
        spark_config.check_master(f"spark://127.0.0.1:{_closed_port()}", timeout=2)
    with pytest.raises(ValueError, match="not a Spark master URL"):
        spark_config.check_master("http://example.org")


def _tiny_frame() -> pd.DataFrame:
    return pd.DataFrame({c: ["x:1"] if c == "unique_id" else [None] for c in model.LINKAGE_COLUMNS})


def _command(monkeypatch):
    pytest.importorskip("pyspark", reason="the Spark backend needs pyspark (the spark extra)")

    def link_residents(progress=None, **options):
        return pipeline.link(_tiny_frame(), workdir=".", progress=progress, **options)

    monkeypatch.setattr(link_command, "link_residents", link_residents)

    class Out:
        def write(self, _):
            pass

    class Command:
        stdout = Out()

    return Command()


def test_the_command_refuses_a_bad_spark_conf_with_a_message(monkeypatch):
    command = _command(monkeypatch)
    with pytest.raises(
        CommandError, match=r"--spark-conf takes KEY=VALUE.*'spark\.driver\.memory'"
    ):
        link_command.run(command, {"backend": "spark", "spark_conf": ["spark.driver.memory"]})
    with pytest.raises(CommandError, match="need --backend spark"):
        link_command.run(command, {"backend": "duckdb", "spark_conf": ["spark.a=b"]})


def test_the_command_says_when_the_spark_master_cannot_be_reached(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    command = _command(monkeypatch)
    master = f"spark://127.0.0.1:{_closed_port()}"
    with pytest.raises(CommandError, match=f"the Spark master {master} cannot be reached"):
        link_command.run(command, {"backend": "spark", "spark_master": master})
