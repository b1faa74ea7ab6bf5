# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.lxdops.server.plugins.module_utils import replica_metrics as m

TARGET = "https://192.0.2.2:8443"
EMPTY = {"instances": {}, "runs": {}}


def result(name, action, seconds=1.5, project=None):
    entry = {"name": name, "action": action, "seconds": seconds, "error": None}
    if project:
        entry["project"] = project
    return entry


def test_a_run_sets_each_instance_and_the_run_counts():
    state = m.merge_run(EMPTY, TARGET, [result("web1", "refreshed", 2.25), result("db1", "failed", 4),
                                        result("app1", "skipped", 0)], 1000, 1010.5, 1, complete=True)
    web1 = state["instances"][("default", "web1", TARGET)]
    assert web1 == {"last_success_timestamp_seconds": 1000, "last_duration_seconds": 2.25, "last_result": 0}
    # Never copied: 0, so an age alert fires rather than the series being absent.
    assert state["instances"][("default", "db1", TARGET)]["last_success_timestamp_seconds"] == 0
    assert state["instances"][("default", "db1", TARGET)]["last_result"] == 1
    assert state["instances"][("default", "app1", TARGET)]["last_result"] == 2
    run = state["runs"][TARGET]
    assert run["run_failed_instances"] == 1 and run["run_skipped_instances"] == 1
    assert run["run_end_timestamp_seconds"] == 1010 and run["run_exit_code"] == 1 and run["run_lock_busy"] == 0


def test_a_failed_run_keeps_the_previous_success_time():
    first = m.merge_run(EMPTY, TARGET, [result("web1", "created"), result("db1", "created")], 1000, 1100, 0, True)
    results = [result("web1", "failed"), result("db1", "refreshed")]
    second = m.merge_run(m.parse(m.format_metrics(first)), TARGET, results, 2000, 2100, 1, True)
    assert second["instances"][("default", "web1", TARGET)]["last_success_timestamp_seconds"] == 1000
    assert second["instances"][("default", "web1", TARGET)]["last_result"] == 1
    assert second["instances"][("default", "db1", TARGET)]["last_success_timestamp_seconds"] == 2000


def test_a_run_that_did_not_start_fails_every_known_instance_and_keeps_their_times():
    first = m.merge_run(EMPTY, TARGET, [result("web1", "created")], 1000, 1100, 0, True)
    state = m.merge_run(first, TARGET, None, 2000, 2001, 2, True)
    web1 = state["instances"][("default", "web1", TARGET)]
    assert web1["last_success_timestamp_seconds"] == 1000 and web1["last_result"] == 1
    assert state["runs"][TARGET]["run_failed_instances"] == 1 and state["runs"][TARGET]["run_exit_code"] == 2


def test_instances_gone_from_the_source_are_dropped_only_by_a_complete_run():
    first = m.merge_run(EMPTY, TARGET, [result("web1", "created"), result("old", "created")], 1000, 1100, 0, True)
    partial = m.merge_run(first, TARGET, [result("web1", "refreshed")], 2000, 2100, 0, complete=False)
    assert ("default", "old", TARGET) in partial["instances"]
    complete = m.merge_run(first, TARGET, [result("web1", "refreshed")], 2000, 2100, 0, complete=True)
    assert ("default", "old", TARGET) not in complete["instances"]


def test_projects_are_a_label():
    state = m.merge_run(EMPTY, TARGET, [result("web1", "created", project="shop"), result("web1", "failed")],
                        1000, 1100, 1, True)
    assert state["instances"][("shop", "web1", TARGET)]["last_result"] == 0
    assert state["instances"][("default", "web1", TARGET)]["last_result"] == 1
    assert 'instance="web1",project="shop"' in m.format_metrics(state)


def test_lock_busy_counts_and_leaves_the_results_alone():
    first = m.merge_run(EMPTY, TARGET, [result("web1", "created")], 1000, 1100, 0, True)
    busy = m.merge_lock_busy(m.merge_lock_busy(first, TARGET), TARGET)
    assert busy["instances"] == first["instances"]
    assert busy["runs"][TARGET]["run_lock_busy"] == 1 and busy["runs"][TARGET]["lock_busy_total"] == 2
    after = m.merge_run(busy, TARGET, [result("web1", "refreshed")], 2000, 2100, 0, True)
    assert after["runs"][TARGET]["run_lock_busy"] == 0 and after["runs"][TARGET]["lock_busy_total"] == 2


def test_format_and_parse_round_trip_with_help_and_type():
    state = m.merge_run(EMPTY, 'https://odd"host\\:1', [result("web1", "created", 0.125)], 1000, 1100.25, 0, True)
    text = m.format_metrics(state)
    assert "# TYPE lxdops_replica_last_success_timestamp_seconds gauge" in text
    assert "# TYPE lxdops_replica_lock_busy_total counter" in text
    assert 'lxdops_replica_last_duration_seconds{instance="web1",project="default",target="https://odd\\"host' \
           '\\\\:1"} 0.125' in text
    assert m.parse(text) == state


def test_a_damaged_file_is_an_error_not_an_empty_past():
    with pytest.raises(ValueError, match="line 2"):
        m.parse('# HELP x\nlxdops_replica_last_result{instance="web1" 1\n')
    with pytest.raises(ValueError, match="not a number"):
        m.parse('lxdops_replica_last_result{instance="a",project="default",target="t"} abc\n')
    # Other exporters' lines in the same folder are not ours to read.
    assert m.parse("node_load1 0.5\n") == EMPTY


def test_ages():
    state = m.merge_run(EMPTY, TARGET, [result("web1", "created"), result("db1", "failed")], 1000, 1100, 1, True)
    assert m.ages(state, TARGET, 1600) == {("default", "web1"): 600, ("default", "db1"): None}
    assert m.ages(state, "https://other:8443", 1600) == {}


def test_write_is_atomic_and_update_reads_the_previous_file(tmp_path):
    folder = str(tmp_path)
    assert m.read(folder) == EMPTY
    m.update(folder, lambda s: m.merge_run(s, TARGET, [result("web1", "created")], 1000, 1100, 0, True))
    m.update(folder, lambda s: m.merge_run(s, TARGET, [result("web1", "failed")], 2000, 2100, 1, True))
    state = m.read(folder)
    assert state["instances"][("default", "web1", TARGET)]["last_success_timestamp_seconds"] == 1000
    # Only the file and its lock: no temporary file left behind.
    assert sorted(os.listdir(folder)) == [".lxdops_replicate.prom.lock", "lxdops_replicate.prom"]
    assert oct(os.stat(os.path.join(folder, m.FILE_NAME)).st_mode & 0o777) == "0o644"


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    folder = str(tmp_path)
    m.update(folder, lambda s: m.merge_run(s, TARGET, [result("web1", "created")], 1000, 1100, 0, True))
    before = (tmp_path / m.FILE_NAME).read_text()

    def broken(state):
        raise OSError("disk full")
    monkeypatch.setattr(m, "format_metrics", broken)
    with pytest.raises(OSError):
        m.update(folder, lambda s: s)
    assert (tmp_path / m.FILE_NAME).read_text() == before
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]
