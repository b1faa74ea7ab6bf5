# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_cluster_member (and the cluster options of lxd_storage and lxd_network) against the lab's
standalone daemon. A real cluster is formed by the molecule scenario roles/lxd_init/molecule/cluster."""

from __future__ import annotations

import pytest


def test_standalone_server_is_told_apart(run_module):
    for state in ("present", "evacuated", "restored"):
        result = run_module("lxd_cluster_member", dict(name="lxd2", state=state))
        assert result["failed"]
        assert "not part of a cluster" in result["msg"] and "state=bootstrapped" in result["msg"]
    absent = run_module("lxd_cluster_member", dict(name="lxd2", state="absent"))
    assert not absent["changed"] and absent["members"] == [] and absent["member"] == {}


def test_bootstrap_in_check_mode_changes_nothing(run_module, primary):
    result = run_module("lxd_cluster_member", dict(name="lxd1", state="bootstrapped", server_address="127.0.0.1"),
                        check=True)
    assert result["changed"] and result["actions"] == ["set cluster.https_address", "bootstrap"]
    assert result["diff"]["after"] == {"config": {"cluster.https_address": "127.0.0.1:8443"},
                                       "cluster": {"enabled": True, "server_name": "lxd1"}}
    assert result["members"] == []
    assert not primary.get("/1.0/cluster", project=False).metadata["enabled"]


@pytest.mark.parametrize("params, words", [
    (dict(state="joined", cluster_token="not-a-token"), ["cluster_token is not accepted"]),
    (dict(state="evacuated", name="lxd2", mode="sideways"), ["mode 'sideways'"]),
    (dict(state="present", name="bad_name"), ["'bad_name'"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_cluster_member", params)
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]
    assert "not-a-token" not in result["_stdout"]


def test_member_config_needs_a_cluster(run_module, unique, tmp_path):
    pool = run_module("lxd_storage", dict(name=unique("clpool"), driver="dir", source=str(tmp_path),
                                          member_config={"lxd2": {"source": "/srv/x"}}))
    assert pool["failed"] and "not part of a cluster" in pool["msg"]
    network = run_module("lxd_network", dict(name="lxdops-tcl0", member_config={"lxd2": {"parent": "eth1"}}))
    assert network["failed"] and "not part of a cluster" in network["msg"]
    bad = run_module("lxd_network", dict(name="lxdops-tcl0", member_config={"lxd2": {"ipv4.address": "auto"}}))
    assert bad["failed"] and bad["_requests"] == 0 and "not member-specific" in bad["msg"]
