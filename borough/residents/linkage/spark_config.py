"""The Spark settings a link starts its session with: computed from the data's size, unless
the standard Spark environment or an explicit option says otherwise.

Precedence, highest first, for each setting:

1. explicit: ``--spark-master`` and ``--spark-conf KEY=VALUE`` (``link(..., spark_master=,
   spark_conf=)``);
2. the environment Spark itself reads: ``PYSPARK_SUBMIT_ARGS`` (``--master``, ``--conf K=V``,
   ``--driver-memory``, ``--executor-memory``, ``--executor-cores``, ``--num-executors``),
   ``spark-defaults.conf`` in ``SPARK_CONF_DIR`` (or ``SPARK_HOME/conf``),
   ``SPARK_DRIVER_MEMORY``, and the master from ``SPARK_MASTER`` or spark-submit's ``MASTER``;
3. computed here from the number of records, the machine's cores and memory
   (``computed_settings``).

A setting the environment gives is left to Spark to apply (it is not passed again), so the
session is what ``spark-submit`` would make of that environment, plus the computed settings
the environment did not give, plus the explicit ones. Everything here is pure except
``machine`` and ``environment_settings``'s reading of the environment and the defaults file.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

GIB = 1024**3
# Driver memory in local mode (where the driver is also the only executor): a base for the
# JVM, Spark's own structures and the records handed over from Arrow, plus this much per
# million records (blocked pairs, persisted comparison vectors, shuffles), at most
# MEMORY_SHARE of the machine's RAM and at least MIN_DRIVER_GIB.
BASE_DRIVER_GIB = 2.0
DRIVER_GIB_PER_MILLION = 4.0
MIN_DRIVER_GIB = 2
MEMORY_SHARE = 0.5
# Shuffle partitions: enough that each holds about this many records' share of the pairs,
# and at least two per core (adaptive execution coalesces the small ones).
RECORDS_PER_PARTITION = 20_000

# PYSPARK_SUBMIT_ARGS options that stand for a Spark setting
_SUBMIT_OPTIONS = {
    "--driver-memory": "spark.driver.memory",
    "--executor-memory": "spark.executor.memory",
    "--executor-cores": "spark.executor.cores",
    "--num-executors": "spark.executor.instances",
    "--driver-cores": "spark.driver.cores",
}
_KEY = re.compile(r"^spark\.[A-Za-z0-9_.\-]+$")
_MEMORY = re.compile(r"^\d+[kKmMgGtT]?$")


@dataclass(frozen=True)
class SparkPlan:
    """The master and settings a session is started with, and where each came from."""

    master: str
    settings: dict[str, str]  # every setting decided here, whatever its source
    sources: dict[str, str] = field(default_factory=dict)  # key -> computed/environment/option
    master_source: str = "default"

    def to_pass(self) -> dict[str, str]:
        """The settings to give the session builder: all but those the environment gives,
        which spark-submit applies itself."""
        return {k: v for k, v in self.settings.items() if self.sources.get(k) != "environment"}

    def describe(self) -> str:
        """One line for the progress output: the master and each setting with its source."""
        parts = [f"master {self.master} ({self.master_source})"]
        parts += [f"{k}={v} ({self.sources.get(k, 'computed')})" for k, v in self.settings.items()]
        return "Spark settings: " + ", ".join(parts)


def check_master(master: str, timeout: float = 5.0) -> None:
    """Raise ValueError if ``master`` is not a master URL Spark knows, or is a standalone
    master (``spark://host:port``, several as ``host1:port1,host2:port2``) that does not answer
    on its port: Spark itself would retry for a minute and fail later, or not at all."""
    import socket

    if is_local(master) or master == "yarn" or master.startswith(("k8s://", "mesos://")):
        return
    if not master.startswith("spark://"):
        raise ValueError(
            f"--spark-master {master!r} is not a Spark master URL: expected local[N], "
            "spark://host:7077, yarn or k8s://https://host:port"
        )
    errors = []
    for hostport in master.removeprefix("spark://").split(","):
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--spark-master {master!r}: expected spark://host:port")
        try:
            with socket.create_connection((host, int(port)), timeout=timeout):
                return
        except OSError as error:
            errors.append(f"{host}:{port}: {error}")
    raise ValueError(
        f"the Spark master {master} cannot be reached ({'; '.join(errors)}): is the cluster "
        "up, and is this machine allowed to connect to it?"
    )


def is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[") or master.startswith("local-")


def machine() -> tuple[int, int]:
    """This machine's cores and physical memory in bytes."""
    cpus = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 * GIB
    return cpus, int(memory)


def driver_memory_gib(records: int, memory_bytes: int) -> int:
    """Whole GiB of driver memory for ``records``: BASE + PER_MILLION × millions, between
    MIN_DRIVER_GIB and MEMORY_SHARE of ``memory_bytes``."""
    wanted = BASE_DRIVER_GIB + DRIVER_GIB_PER_MILLION * records / 1_000_000
    ceiling = max(MIN_DRIVER_GIB, math.floor(memory_bytes * MEMORY_SHARE / GIB))
    return int(min(max(math.ceil(wanted), MIN_DRIVER_GIB), ceiling))


def shuffle_partitions(records: int, cpus: int) -> int:
    """max(2 × cores, ⌈records / RECORDS_PER_PARTITION⌉)."""
    return max(2 * cpus, math.ceil(records / RECORDS_PER_PARTITION))


def computed_settings(
    records: int,
    *,
    cpus: int,
    memory_bytes: int,
    local: bool,
    local_dir: str | None = None,
    checkpoint_dir: str | None = None,
) -> dict[str, str]:
    """The settings computed from the data's size (see the module's constants)."""
    partitions = shuffle_partitions(records, cpus)
    memory = driver_memory_gib(records, memory_bytes)
    settings = {
        # the input arrives through the driver as Arrow and the scored pairs come back to it;
        # in local mode the driver is also the executor that does all the work
        "spark.driver.memory": f"{memory}g",
        "spark.driver.maxResultSize": f"{max(1, memory // 2)}g",
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.default.parallelism": str(partitions),
        # the comparison step's whole-stage code grows past the JVM's 64 KB method limit:
        # Spark would log a failed compile (with a long stack trace) and fall back
        "spark.sql.codegen.wholeStage": "false",
        "spark.ui.enabled": "false",
    }
    if local and local_dir:
        settings["spark.local.dir"] = local_dir  # shuffle and spill files, under the workdir
    if local and checkpoint_dir:
        # Splink's intermediate tables, written as Parquet (see backends.SparkBackend); on a cluster
        # this must be storage every executor shares (HDFS, S3), so it is not computed
        settings["spark.checkpoint.dir"] = checkpoint_dir
    return settings


def parse_spark_conf(items: Iterable[str]) -> dict[str, str]:
    """``["KEY=VALUE", …]`` (``--spark-conf``) as a dict; a ValueError names a bad one."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _KEY.match(key) or not value:
            raise ValueError(
                f"--spark-conf takes KEY=VALUE with a Spark setting as the key "
                f"(e.g. spark.driver.memory=8g); got {item!r}"
            )
        if key.endswith(".memory") and not _MEMORY.match(value):
            raise ValueError(
                f"--spark-conf {key} takes an amount of memory such as 512m or 8g; got {value!r}"
            )
        out[key] = value
    return out


def _defaults_file(env: Mapping[str, str]) -> Path | None:
    if env.get("SPARK_CONF_DIR"):
        return Path(env["SPARK_CONF_DIR"]) / "spark-defaults.conf"
    if env.get("SPARK_HOME"):
        return Path(env["SPARK_HOME"]) / "conf" / "spark-defaults.conf"
    return None


def parse_defaults(text: str) -> dict[str, str]:
    """spark-defaults.conf: ``key value`` (or ``key=value``) per line, ``#`` comments."""
    out = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^(\S+?)\s*[=\s]\s*(.*)$", line)
        if match and match.group(1).startswith("spark."):
            out[match.group(1)] = match.group(2).strip()
    return out


def parse_submit_args(args: str) -> tuple[str | None, dict[str, str]]:
    """The master and settings in ``PYSPARK_SUBMIT_ARGS``."""
    master = None
    settings: dict[str, str] = {}
    words = shlex.split(args)
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, inline = word.partition("=")
        value = inline if eq else (words[i + 1] if i + 1 < len(words) else "")
        step = 1 if eq else 2
        if name == "--master":
            master = value
        elif name in ("--conf", "-c"):
            key, sep, val = value.partition("=")
            if sep:
                settings[key] = val
        elif name in _SUBMIT_OPTIONS:
            settings[_SUBMIT_OPTIONS[name]] = value
        else:
            step = 1
        i += step
    return master, settings


def environment_settings(
    env: Mapping[str, str] | None = None, defaults_text: str | None = None
) -> tuple[str | None, dict[str, str]]:
    """The master and the settings the standard Spark environment gives (see the module's
    docstring), in spark-submit's order: PYSPARK_SUBMIT_ARGS over spark-defaults.conf over
    SPARK_DRIVER_MEMORY; the master from PYSPARK_SUBMIT_ARGS, spark-defaults.conf, then
    SPARK_MASTER or MASTER."""
    env = os.environ if env is None else env
    if defaults_text is None:
        path = _defaults_file(env)
        defaults_text = path.read_text(encoding="utf-8") if path and path.is_file() else ""
    settings: dict[str, str] = {}
    if env.get("SPARK_DRIVER_MEMORY"):
        settings["spark.driver.memory"] = env["SPARK_DRIVER_MEMORY"]
    settings.update(parse_defaults(defaults_text))
    submit_master, submitted = parse_submit_args(env.get("PYSPARK_SUBMIT_ARGS", ""))
    settings.update(submitted)
    master = (
        submit_master
        or settings.pop("spark.master", None)
        or env.get("SPARK_MASTER")
        or env.get("MASTER")
    )
    settings.pop("spark.master", None)
    return master or None, settings


def plan(
    records: int,
    *,
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    defaults_text: str | None = None,
    cpus: int | None = None,
    memory_bytes: int | None = None,
    local_dir: str | None = None,
    checkpoint_dir: str | None = None,
) -> SparkPlan:
    """The session's master and settings for linking ``records`` records."""
    env_master, env_settings = environment_settings(env, defaults_text)
    if master:
        chosen, master_source = master, "option"
    elif env_master:
        chosen, master_source = env_master, "environment"
    else:
        chosen, master_source = "local[*]", "default"
    if cpus is None or memory_bytes is None:
        here_cpus, here_memory = machine()
        cpus = cpus or here_cpus
        memory_bytes = memory_bytes or here_memory
    if is_local(chosen):
        inside = re.match(r"local\[(\d+)", chosen)
        if inside:
            cpus = int(inside.group(1))
    settings = computed_settings(
        records,
        cpus=cpus,
        memory_bytes=memory_bytes,
        local=is_local(chosen),
        local_dir=local_dir,
        checkpoint_dir=checkpoint_dir,
    )
    sources = dict.fromkeys(settings, "computed")
    for key, value in env_settings.items():
        settings[key] = value
        sources[key] = "environment"
    for key, value in (conf or {}).items():
        settings[key] = value
        sources[key] = "option"
    return SparkPlan(master=chosen, settings=settings, sources=sources, master_source=master_source)
