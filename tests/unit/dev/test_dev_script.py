# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""./dev test's step runner: a command that fails inside a step fails that step (nothing else runs in it)."""

from __future__ import annotations

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

STEPS = '''
fine_step() { echo fine-ran; }
failing_inside() { false; echo after-false; }
failing_pipe() { false | cat; echo after-pipe; }
last_step() { echo last-ran; }
if [ "${1:-}" = selftest ]; then run_steps fine_step failing_inside failing_pipe last_step; exit $?; fi
'''


def run_copy(tmp_path):
    text = open(os.path.join(ROOT, "dev")).read()
    marker = "cmd=${1:-help}"
    assert marker in text
    copy = tmp_path / "dev"
    copy.write_text(text.replace(marker, STEPS + marker, 1))
    env = dict(os.environ)
    env.pop("LXDOPS_KEEP_LAB", None)
    return subprocess.run(["bash", str(copy), "selftest"], cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_failed_command_fails_its_step_and_the_run(tmp_path):
    proc = run_copy(tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "fine-ran" in proc.stdout and "last-ran" in proc.stdout
    # The commands after the failing one never ran: errexit (and pipefail) hold inside a step.
    assert "after-false" not in proc.stdout
    assert "after-pipe" not in proc.stdout
    assert "--- failing_inside took" in proc.stdout and "(exit 1)" in proc.stdout
    assert "--- fine_step took 0s (exit 0)" in proc.stdout


def test_the_real_steps_run_through_the_runner():
    text = open(os.path.join(ROOT, "dev")).read()
    assert "run_steps checks daemon_tests" in text
    assert 'run_pool 3 "sanity=sanity" "lint=lint" "unit=unit"' in text
    assert 'if ! "$step"' not in text


ORDER = '''
if [ "${1:-}" = ordertest ]; then
    BUILD=$PWD/build
    mkdir -p tests build/logs
    printf 'slow-from-file 500\\nquick-from-file 5\\n' > tests/durations.txt
    echo "--- ran-here took 100s (exit 0)" > build/logs/ran-here.log
    printf '%s\\n' "quick-from-file=x" "ran-here=x" "never-seen=x" "slow-from-file=x" | longest_first
    exit 0
fi
'''


def test_the_pool_starts_the_longest_jobs_first(tmp_path):
    """Times of a run here first, else tests/durations.txt (a clean clone), unknown jobs before all."""
    text = open(os.path.join(ROOT, "dev")).read()
    marker = "cmd=${1:-help}"
    copy = tmp_path / "dev"
    copy.write_text(text.replace(marker, ORDER + marker, 1))
    proc = subprocess.run(["bash", str(copy), "ordertest"], cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["never-seen=x", "slow-from-file=x", "ran-here=x", "quick-from-file=x"]


def test_every_daemon_job_is_in_the_durations_file():
    listed = set()
    for line in open(os.path.join(ROOT, "tests", "durations.txt")):
        if line.strip() and not line.startswith("#"):
            listed.add(line.split()[0])
    scenarios = set()
    for role in os.listdir(os.path.join(ROOT, "roles")):
        folder = os.path.join(ROOT, "roles", role, "molecule")
        for scenario in os.listdir(folder) if os.path.isdir(folder) else []:
            if os.path.exists(os.path.join(folder, scenario, "molecule.yml")):
                scenarios.add("molecule-%s-%s" % (role, scenario))
    assert scenarios | {"integration-lxd", "integration-incus"} <= listed


POOL = '''
quick_fine() { echo quick-fine-ran; }
slow_failing() { sleep 1; false; echo after-false; }
if [ "${1:-}" = pooltest ]; then run_pool 2 "fine=quick_fine" "failing=slow_failing" "third=quick_fine"; exit $?; fi
'''


def test_the_pool_runs_every_job_and_fails_when_one_failed(tmp_path):
    text = open(os.path.join(ROOT, "dev")).read()
    marker = "cmd=${1:-help}"
    copy = tmp_path / "dev"
    copy.write_text(text.replace(marker, POOL + marker, 1))
    env = dict(os.environ, LXDOPS_KEEP_LAB="")
    proc = subprocess.run(["bash", str(copy), "pooltest"], cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode != 0, proc.stdout
    assert proc.stdout.count("quick-fine-ran") == 2
    assert "after-false" not in proc.stdout
    assert "--- failing took" in proc.stdout and "(exit 1)" in proc.stdout
    # Every job's log is printed in the order the jobs were given, whatever order they ended in.
    assert proc.stdout.index("=== fine") < proc.stdout.index("=== failing") < proc.stdout.index("=== third")
