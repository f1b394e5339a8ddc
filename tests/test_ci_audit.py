"""The dependency audit's verdicts (.ci/audit.py): a run that could check nothing says NOT
AUDITED instead of passing, a known vulnerability fails unless accepted with a reason."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "ci_audit", Path(__file__).resolve().parents[1] / ".ci" / "audit.py"
)
audit = importlib.util.module_from_spec(_spec)
sys.modules["ci_audit"] = audit  # its dataclasses look their module up by name
_spec.loader.exec_module(audit)


def _dep(name, version="1.0", vulns=None, skip=None):
    """A dependency as pip-audit's JSON report (--format json) lists it."""
    if skip:
        return {"name": name, "skip_reason": skip}
    return {"name": name, "version": version, "vulns": vulns or []}


def test_a_run_that_could_look_nothing_up_says_not_audited():
    """pip-audit itself prints "No known vulnerabilities found" for this report."""
    report = {
        "dependencies": [
            _dep("django", skip="Dependency not found on PyPI and could not be audited: django"),
            _dep("pillow", skip="Dependency not found on PyPI and could not be audited: pillow"),
        ],
        "fixes": [],
    }
    verdict = audit.judge(0, report, "", required=False)
    assert verdict.exit_code == 0 and verdict.lines[0] == audit.NOT_AUDITED
    assert "0 of 2 packages" in verdict.lines[1]
    assert audit.judge(0, report, "", required=True).exit_code == 3


def test_no_network_at_all_says_not_audited():
    stderr = (
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): "
        "Max retries exceeded"
    )
    verdict = audit.judge(1, None, stderr, required=False)
    assert verdict.lines[0] == audit.NOT_AUDITED and verdict.exit_code == 0


def test_a_known_vulnerability_fails_naming_it_and_its_fix():
    vuln = {"id": "PYSEC-0000-1", "fix_versions": ["5.2.9"], "aliases": ["CVE-0000-0001"]}
    report = {"dependencies": [_dep("django", "5.2.8", [vuln]), _dep("pillow", "13.0.0")]}
    verdict = audit.judge(1, report, "", required=False)
    assert verdict.exit_code == 1
    assert "django 5.2.8: PYSEC-0000-1 (CVE-0000-0001); fixed in 5.2.9" in "\n".join(verdict.lines)


def test_a_clean_audit_passes_and_says_what_it_could_not_check():
    report = {"dependencies": [_dep("django", "5.2.9"), _dep("private", skip="not on PyPI")]}
    verdict = audit.judge(0, report, "", required=True)
    assert verdict.exit_code == 0
    assert verdict.lines[0] == "pip-audit: 1 packages audited, no known vulnerabilities."
    assert "PARTLY AUDITED" in verdict.lines[1] and "private" in verdict.lines[1]


def test_an_accepted_vulnerability_needs_a_reason(tmp_path):
    ignores = tmp_path / "audit-ignore.txt"
    ignores.write_text("# comment\nGHSA-aaaa-bbbb-cccc  dev-only tool, never deployed (2026-12)\n")
    assert audit.read_ignores(ignores) == {
        "GHSA-aaaa-bbbb-cccc": "dev-only tool, never deployed (2026-12)"
    }
    ignores.write_text("GHSA-aaaa-bbbb-cccc\n")
    with pytest.raises(audit.IgnoreFileError, match="line 1: GHSA-aaaa-bbbb-cccc has no reason"):
        audit.read_ignores(ignores)


def test_the_shipped_ignore_file_reads():
    audit.read_ignores(audit.IGNORE_FILE)
