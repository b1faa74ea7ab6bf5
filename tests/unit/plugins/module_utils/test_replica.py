# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    SAVED_SCHEDULE_KEY,
    check_names,
    effective_target_config,
    plan,
    replica_body,
)


def test_plan_covers_every_case():
    sources = {"new": {}, "old": {}, "busy": {}}
    replicas = {"old": {"status": "Stopped"}, "busy": {"status": "Running"}}
    actions = plan(["new", "old", "busy", "gone"], sources, replicas, refresh=True)
    assert actions["new"] == ("create", None)
    assert actions["old"] == ("refresh", None)
    assert actions["busy"][0] == "block" and "Running" in actions["busy"][1]
    assert actions["gone"][0] == "fail" and "gone" in actions["gone"][1]
    assert plan(["old"], sources, replicas, refresh=False)["old"][0] == "skip"
    # Without refresh nothing is overwritten, so a running replica is no failure.
    assert plan(["busy"], sources, replicas, refresh=False)["busy"][0] == "skip"


def test_frozen_replica_is_not_overwritten_either():
    assert plan(["a"], {"a": {}}, {"a": {"status": "Frozen"}}, True)["a"][0] == "block"


def test_snapshots_are_off_on_replicas_unless_asked():
    assert effective_target_config(None) == {"snapshots.schedule": ""}
    assert effective_target_config({"boot.autostart": False}) == {"snapshots.schedule": "", "boot.autostart": False}
    assert effective_target_config({"snapshots.schedule": "@daily"})["snapshots.schedule"] == "@daily"


def test_body_keeps_the_schedule_for_failover_and_drops_volatile_keys():
    source = {"name": "c1", "type": "container", "architecture": "x86_64", "profiles": ["default"],
              "config": {"snapshots.schedule": "50 20 * * *", "volatile.uuid": "x", "limits.cpu": "1"},
              "devices": {}}
    body = replica_body(source, False, True, "https://h:8443/1.0/operations/o", "PEM", {"fs": "s"})
    assert body["config"] == {"snapshots.schedule": "50 20 * * *", SAVED_SCHEDULE_KEY: "50 20 * * *",
                              "limits.cpu": "1"}
    assert body["source"]["refresh"] is True and body["source"]["mode"] == "pull"
    assert body["source"]["operation"].endswith("/1.0/operations/o")


@pytest.mark.parametrize("names, expected", [("c1", ["c1"]), (["a", "b"], ["a", "b"]), (["all"], ["all"])])
def test_names(names, expected):
    assert check_names(names) == expected


@pytest.mark.parametrize("names, words", [([], "give instance names"), (["all", "x"], "all stands alone")])
def test_bad_names(names, words):
    with pytest.raises(ValueError, match=words):
        check_names(names)


def test_replica_config_after_a_refresh_brought_the_source_config_back():
    from ansible_collections.lxdops.server.plugins.module_utils.replica import REPLICA_KEY, replica_config
    source_like = {"snapshots.schedule": "50 20 * * *", "boot.autostart": "true", "limits.cpu": "1"}
    config = replica_config(source_like, effective_target_config({"boot.autostart": False}), "50 20 * * *")
    assert config == {"boot.autostart": "false", "limits.cpu": "1", SAVED_SCHEDULE_KEY: "50 20 * * *",
                      REPLICA_KEY: "true"}
    # A source without a schedule leaves no stale saved value.
    assert SAVED_SCHEDULE_KEY not in replica_config(config, effective_target_config(None), None)
