# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops-guard with the lab: the "primary" daemon as the primary, the "remote" daemon (https) as the snapshot server."""

from __future__ import annotations

import io
import json

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path
from ansible_collections.lxdops.server.plugins.module_utils.guard import (
    FENCED_BEFORE_KEY,
    REASON_FAILED_OVER,
    REASON_UNREACHABLE,
    main,
)
from ansible_collections.lxdops.server.plugins.module_utils.replica import FAILED_OVER_KEY, FENCED_KEY


@pytest.fixture
def guard(tmp_path, lab, remote_https):
    """Run the guard in this process against settings written like the role's; returns (exit, output)."""
    def run(names, remote=None, unreachable="fence", *args, source=None):
        settings = tmp_path / "replicate.json"
        settings.write_text(json.dumps({"source": {"url": source or lab["daemons"]["primary"]["url"]},
                                        "remote": remote or remote_https, "instances": names}))
        config = tmp_path / "guard.json"
        config.write_text(json.dumps({"settings": str(settings), "unreachable": unreachable,
                                      "log_file": str(tmp_path / "guard.log"),
                                      "status_file": str(tmp_path / "status.json"),
                                      "boot_marker": str(tmp_path / "answered"),
                                      "lock_file": str(tmp_path / "lock"), "timeout": 5}))
        out = io.StringIO()
        code = main(["--config", str(config)] + list(args), stream=out)
        return code, out.getvalue()
    return run


@pytest.fixture
def copy_on_remote(remote_unix, lab):
    """An instance of that name on the snapshot server (stopped), with extra config."""
    def make(name, **config):
        remote_unix.post("/1.0/instances", {"name": name, "config": config,
                                            "source": {"type": "image", "alias": lab["images"]["busybox"]["alias"]}})
    return make


def state(client, name):
    instance = client.get(api_path("instances", name)).metadata
    return instance["status"], instance["config"]


def test_failed_over_copy_fences_the_primary_s_instance(guard, primary, instance, copy_on_remote, tmp_path):
    taken, kept = instance("gfo", config={"boot.autostart": True}), instance("gkeep")
    copy_on_remote(taken, **{FAILED_OVER_KEY: "2026-12-02T09:00:00Z"})
    copy_on_remote(kept)
    code, out = guard([taken, kept])
    assert code == 1, out
    status, config = state(primary, taken)
    assert status == "Stopped"
    assert config["boot.autostart"] == "false"
    assert config[FENCED_KEY].endswith(" " + REASON_FAILED_OVER)
    assert FENCED_BEFORE_KEY not in config
    assert state(primary, kept)[0] == "Running"
    assert "stopped %s (%s); it had run" % (taken, REASON_FAILED_OVER) in out
    assert "fenced %s: boot.autostart=false" % taken in (tmp_path / "guard.log").read_text()
    # What it did, for the operator.
    report = io.StringIO()
    assert main(["--config", str(tmp_path / "guard.json"), "--status"], stream=report) == 1
    assert "fenced: %s: " % taken in report.getvalue() and kept not in report.getvalue()
    # A second run changes nothing.
    again, out = guard([taken, kept])
    assert again == 0, out
    assert "nothing to do" in out and "1 fenced until failback" in out
    assert state(primary, taken) == (status, config)
    assert state(primary, kept)[0] == "Running"


def test_fenced_instance_started_by_hand_is_stopped_again(guard, primary, instance, copy_on_remote):
    name = instance("gagain")
    copy_on_remote(name, **{FAILED_OVER_KEY: "2026-12-02T09:00:00Z"})
    assert guard([name])[0] == 1
    fenced = state(primary, name)[1][FENCED_KEY]
    primary.put(api_path("instances", name, "state"), {"action": "start", "timeout": 30})
    code, out = guard([name])
    assert code == 1 and "stopped %s" % name in out
    assert state(primary, name)[0] == "Stopped" and state(primary, name)[1][FENCED_KEY] == fenced


def test_check_changes_nothing(guard, primary, instance, copy_on_remote, tmp_path):
    name = instance("gchk")
    copy_on_remote(name, **{FAILED_OVER_KEY: "2026-12-02T09:00:00Z"})
    before = state(primary, name)
    code, out = guard([name], None, "fence", "--check")
    assert code == 1 and "would fence %s" % name in out
    assert state(primary, name) == before
    assert not (tmp_path / "status.json").exists() and not (tmp_path / "answered").exists()


def unreachable_remotes(lab, remote_https, new_cert):
    crt, key = new_cert
    return {
        "closed port": (dict(remote_https, url="https://127.0.0.1:9"), "127.0.0.1:9"),
        "untrusted": (dict(remote_https, client_cert=crt, client_key=key), "trust"),
        "wrong pinned certificate": (dict(remote_https, server_cert=lab["daemons"]["primary"]["server_cert"]),
                                     "does not match the pinned"),
    }


@pytest.mark.parametrize("case", ["closed port", "untrusted", "wrong pinned certificate"])
def test_unreachable_fences_then_releases(case, guard, primary, instance, lab, remote_https, new_cert, tmp_path):
    name = instance("gun", config={"boot.autostart": True})
    remote, says = unreachable_remotes(lab, remote_https, new_cert)[case]
    code, out = guard([name], remote)
    assert code == 1, out
    assert "cannot ask the snapshot server" in out and says in out
    status, config = state(primary, name)
    assert status == "Stopped" and config["boot.autostart"] == "false"
    assert config[FENCED_KEY].endswith(" " + REASON_UNREACHABLE)
    # Still unreachable: nothing changes, and the exit status says it could not ask.
    again, out = guard([name], remote)
    assert again == 2, out
    assert state(primary, name) == (status, config)
    # It answers, and runs no failed-over copy of it: back as it was.
    code, out = guard([name])
    assert code == 0, out
    assert "released %s" % name in out and "started %s again" % name in out
    status, config = state(primary, name)
    assert status == "Running" and config["boot.autostart"] == "true"
    assert FENCED_KEY not in config and FENCED_BEFORE_KEY not in config


def test_unreachable_then_failed_over_stays_fenced(guard, primary, instance, copy_on_remote, remote_https):
    name = instance("gunfo")
    assert guard([name], dict(remote_https, url="https://127.0.0.1:9"))[0] == 1
    copy_on_remote(name, **{FAILED_OVER_KEY: "2026-12-02T09:00:00Z"})
    code, out = guard([name])
    assert code == 1, out
    status, config = state(primary, name)
    assert status == "Stopped" and config["boot.autostart"] == "false"
    assert config[FENCED_KEY].endswith(" " + REASON_FAILED_OVER) and FENCED_BEFORE_KEY not in config


def test_unreachable_keep_leaves_them_running(guard, primary, instance, remote_https):
    name = instance("gkeep")
    code, out = guard([name], dict(remote_https, url="https://127.0.0.1:9"), "keep")
    assert code == 2 and "WARNING: the instances keep running (policy keep)" in out
    assert state(primary, name)[0] == "Running" and FENCED_KEY not in state(primary, name)[1]


def test_after_an_answer_this_boot_an_outage_stops_nothing(guard, primary, instance, remote_https, tmp_path):
    name = instance("gboot")
    assert guard([name])[0] == 0
    assert (tmp_path / "answered").exists()
    code, out = guard([name], dict(remote_https, url="https://127.0.0.1:9"))
    assert code == 2 and "it answered earlier since this boot" in out
    assert state(primary, name)[0] == "Running"


def test_primary_not_answering_exits_3(guard, tmp_path):
    code, out = guard(["x"], source="unix:" + str(tmp_path / "no.socket"))
    assert code == 3 and "cannot read this server's instances" in out


def test_primary_waited_for_then_exits_3(guard, tmp_path):
    code, out = guard(["x"], None, "fence", "--wait", "3", source="unix:" + str(tmp_path / "no.socket"))
    assert code == 3 and out.count("waiting up to 3 s for this server's daemon") == 1
    assert "cannot read this server's instances" in out


def test_several_failed_over_stopped_in_one_run(guard, primary, instance, copy_on_remote):
    names = [instance("gmany%d" % number) for number in range(3)]
    for name in names:
        copy_on_remote(name, **{FAILED_OVER_KEY: "2026-12-02T09:00:00Z"})
    code, out = guard(names)
    assert code == 1, out
    for name in names:
        status, config = state(primary, name)
        assert status == "Stopped" and config[FENCED_KEY].endswith(" " + REASON_FAILED_OVER), out
        assert "stopped %s (%s); it had run" % (name, REASON_FAILED_OVER) in out
