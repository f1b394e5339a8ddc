"""Audit a lock file's packages for known vulnerabilities with pip-audit, and say plainly what
was and was not audited.

    python .ci/audit.py requirements/lock.txt [--report var/audit.json]

pip-audit prints "No known vulnerabilities found" even when it could look none of the packages
up (its vulnerability service unreachable, every package "skipped"): that is not a pass, and
this script says NOT AUDITED instead. Outcomes and exit codes:

- every package checked, no known vulnerability: passes (0);
- a known vulnerability not in requirements/audit-ignore.txt: fails (1), naming each;
- nothing could be checked (no network to the vulnerability data): "NOT AUDITED" in capitals,
  exit 0 so a council's offline build still runs, or 3 with BOROUGH_AUDIT_REQUIRED=1;
- some packages checked, some not: passes, naming the ones not checked ("PARTLY AUDITED").

requirements/audit-ignore.txt lists vulnerabilities the project has decided to accept, one a
line: the ID, then why (required), e.g.
    GHSA-xxxx-xxxx-xxxx  only in the docs build, never installed in production (2026-12, ab)
The data comes from PyPI's JSON API (pip-audit's default); BOROUGH_AUDIT_SERVICE=osv uses OSV.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

IGNORE_FILE = Path(__file__).resolve().parent.parent / "requirements" / "audit-ignore.txt"
UNREACHABLE_SIGNS = (
    "ConnectionError",
    "Max retries exceeded",
    "Failed to establish a new connection",
    "NameResolutionError",
    "Temporary failure in name resolution",
    "timed out",
    "ServiceError",
    "ProxyError",
    "SSLError",
)
NOT_AUDITED = "pip-audit: vulnerability data unreachable — NOT AUDITED"


class IgnoreFileError(ValueError):
    pass


def read_ignores(path: Path) -> dict[str, str]:
    """The accepted vulnerabilities: ID → reason. A line with no reason is an error."""
    ignores: dict[str, str] = {}
    if not path.exists():
        return ignores
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            raise IgnoreFileError(
                f"{path.name} line {number}: {vuln_id} has no reason; say why it is accepted"
            )
        ignores[vuln_id] = reason.strip()
    return ignores


@dataclass
class Verdict:
    exit_code: int
    lines: list[str] = field(default_factory=list)


def judge(returncode: int, report: dict | None, stderr: str, *, required: bool) -> Verdict:
    """What a pip-audit run found, from its exit code, its JSON report and its error output."""
    unreachable_code = 3 if required else 0
    if report is None:
        if any(sign in stderr for sign in UNREACHABLE_SIGNS):
            last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
            return Verdict(unreachable_code, [NOT_AUDITED, f"  ({last})"])
        return Verdict(1, ["pip-audit failed:", stderr.strip()])
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    if vulnerable:
        lines = ["pip-audit: KNOWN VULNERABILITIES in the locked packages:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
                aliases = ", ".join(vuln.get("aliases") or [])
                lines.append(
                    f"  {dep['name']} {dep['version']}: {vuln['id']}"
                    + (f" ({aliases})" if aliases else "")
                    + f"; fixed in {fixes}"
                )
        lines.append(
            "Upgrade (make lock UPGRADE=1, or raise the floor in pyproject.toml and make lock), "
            "or accept it with a reason in requirements/audit-ignore.txt."
        )
        return Verdict(1, lines)
    if not audited:
        example = skipped[0]["skip_reason"] if skipped else "no packages in the report"
        return Verdict(
            unreachable_code,
            [
                NOT_AUDITED,
                f"  0 of {len(deps)} packages could be checked (e.g. {example}).",
            ],
        )
    lines = [f"pip-audit: {len(audited)} packages audited, no known vulnerabilities."]
    if skipped:
        lines.append(
            f"pip-audit: PARTLY AUDITED — {len(skipped)} packages could not be checked: "
            + ", ".join(d["name"] for d in skipped)
        )
    if returncode not in (0,):
        lines.append(f"(pip-audit exited {returncode})")
    return Verdict(0, lines)


def run(lock: Path, report_path: Path | None) -> int:
    try:
        ignores = read_ignores(IGNORE_FILE)
    except IgnoreFileError as error:
        print(error, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(lock),
            "--require-hashes",
            "--disable-pip",
            "--format",
            "json",
            "--output",
            str(out),
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            os.environ.get("BOROUGH_AUDIT_SERVICE", "pypi"),
        ]
        for vuln_id in ignores:
            command += ["--ignore-vuln", vuln_id]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        report = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
        if report is not None and report_path is not None:
            report_path.parent.mkdir(parents=True, exist_ok=True)
            report_path.write_text(json.dumps(report, indent=1))
    verdict = judge(
        finished.returncode,
        report,
        finished.stderr,
        required=os.environ.get("BOROUGH_AUDIT_REQUIRED") == "1",
    )
    for vuln_id, reason in ignores.items():
        verdict.lines.append(f"pip-audit: {vuln_id} accepted: {reason}")
    print("\n".join(verdict.lines))
    return verdict.exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("--report", type=Path, help="keep pip-audit's JSON report here")
    options = parser.parse_args()
    return run(options.lock, options.report)


if __name__ == "__main__":
    sys.exit(main())
