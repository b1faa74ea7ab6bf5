# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_limits against the lab's real daemon: the config, and its effect inside the instance."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path


def own(client, name):
    return client.get(api_path("instances", name)).metadata


def default_device(client, device):
    """A device of the daemon's default profile (its root pool, its nic's network): asked, not assumed."""
    return client.get(api_path("profiles", "default")).metadata["devices"][device]


def memory_cgroup(client, name):
    """The memory cgroup folder of a running instance, from its init process as the host sees it."""
    pid = client.get(api_path("instances", name, "state")).metadata["pid"]
    with open("/proc/%d/cgroup" % pid) as handle:
        for line in handle:
            _id, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return "/sys/fs/cgroup/memory" + path
    raise AssertionError("no memory cgroup for %s" % name)


def test_cpu_limit_is_seen_by_nproc(run_module, instance, lxc_exec):
    name = instance()
    result = run_module("lxd_limits", dict(instance=name, cpu=1))
    assert result["changed"] and result["limits"]["cpu"] == "1"
    assert lxc_exec(name, "nproc")[1].strip() == "1"
    second = run_module("lxd_limits", dict(instance=name, cpu=1))
    assert not second["changed"] and second["_requests"] == 1


def test_memory_limit_reaches_the_memory_cgroup(run_module, primary, instance):
    name = instance()
    result = run_module("lxd_limits", dict(instance=name, memory="64MB", memory_enforce="hard", memory_swap=False))
    assert result["changed"]
    with open(memory_cgroup(primary, name) + "/memory.limit_in_bytes") as handle:
        assert int(handle.read()) == 64 * 1000 * 1000
    config = own(primary, name)["config"]
    assert config["limits.memory"] == "64MB" and config["limits.memory.swap"] == "false"
    assert result["usage"]["memory"] > 0 and result["usage"]["memory_peak"] >= result["usage"]["memory"]
    assert "eth0" in result["usage"]["network"]


def test_null_removes_a_limit_live(run_module, primary, instance, lxc_exec):
    name = instance(config={"limits.cpu": 1, "limits.processes": 100})
    result = run_module("lxd_limits", dict(instance=name, cpu=None))
    assert result["changed"]
    config = own(primary, name)["config"]
    assert "limits.cpu" not in config and config["limits.processes"] == "100"
    assert int(lxc_exec(name, "nproc")[1]) >= 1
    assert not run_module("lxd_limits", dict(instance=name, cpu=None))["changed"]
    assert own(primary, name)["status"] == "Running"


def test_check_mode_and_diff(run_module, primary, instance):
    name = instance(config={"limits.cpu": 1})
    before = own(primary, name)
    result = run_module("lxd_limits", dict(instance=name, cpu=2, memory="256MB"), check=True)
    assert result["changed"]
    assert result["diff"] == {"before": {"config": {"limits.cpu": "1"}},
                              "after": {"config": {"limits.cpu": "2", "limits.memory": "256MB"}}}
    after = own(primary, name)
    assert after["config"] == before["config"] and after["devices"] == before["devices"]


def test_disk_size_on_btrfs_is_enforced(run_module, primary, busybox, unique, lab, lxc_exec):
    """The root disk comes from the default profile; the limit overrides it into the instance."""
    pool = lab["daemons"]["primary"]["btrfs_pool"]
    name = unique("quota")
    run_module("lxd_instance", dict(name=name, source=busybox,
                                    devices={"root": {"type": "disk", "path": "/", "pool": pool}}))
    result = run_module("lxd_limits", dict(instance=name, disk_size="20MiB", disk_read="30MB", disk_write="20iops"))
    assert result["changed"], result.get("msg")
    root = own(primary, name)["devices"]["root"]
    assert root["size"] == "20MiB" and root["limits.read"] == "30MB" and root["limits.write"] == "20iops"
    rc, out = lxc_exec(name, "dd if=/dev/zero of=/root/big bs=1M count=64 && sync")
    assert rc != 0 and "quota" in out.lower(), out
    rc, out = lxc_exec(name, "rm -f /root/big; dd if=/dev/zero of=/root/small bs=1M count=4 && sync")
    assert rc == 0, out


def test_disk_size_overrides_the_profile_root_device(run_module, primary, instance):
    name = instance(state="stopped")
    assert "root" not in own(primary, name)["devices"]
    result = run_module("lxd_limits", dict(instance=name, disk_size="1GiB"))
    assert result["changed"]
    root = own(primary, name)["devices"]["root"]
    assert root == {"type": "disk", "path": "/", "pool": default_device(primary, "root")["pool"], "size": "1GiB"}
    profile_root = primary.get(api_path("profiles", "default")).metadata["devices"]["root"]
    assert "size" not in profile_root
    assert not run_module("lxd_limits", dict(instance=name, disk_size="1GiB"))["changed"]


def test_network_limits_go_to_the_named_nic(run_module, primary, instance):
    name = instance(state="stopped")
    result = run_module("lxd_limits", dict(instance=name, network_ingress="100Mbit", network_egress="50Mbit"))
    assert result["changed"], result.get("msg")
    eth0 = own(primary, name)["devices"]["eth0"]
    assert eth0["limits.ingress"] == "100Mbit" and eth0["limits.egress"] == "50Mbit"
    assert eth0["network"] == default_device(primary, "eth0")["network"]


def test_network_priority_where_the_daemon_has_it(run_module, primary, instance, lab):
    """LXD has limits.network.priority; Incus 6.0 dropped it and lists its keys, so the task fails before writing."""
    name = instance(state="stopped")
    before = own(primary, name)
    params = dict(instance=name, network_priority=5, cpu=1)
    if lab["kind"] == "incus":
        for check in (True, False):
            result = run_module("lxd_limits", params, check=check)
            assert result["failed"] and not result["changed"]
            assert "network_priority (limits.network.priority)" in result["msg"] and "Incus" in result["msg"]
        after = own(primary, name)
        assert after["config"] == before["config"]
    else:
        result = run_module("lxd_limits", params)
        assert result["changed"] and result["limits"]["network_priority"] == "5"


def test_live_network_limits_apply_or_change_nothing(run_module, primary, instance):
    """Applying ingress/egress to a running nic needs the kernel's tc police action: either it is applied,
    or the task fails with LXD's reason and the instance is left as it was."""
    name = instance()
    before = own(primary, name)
    result = run_module("lxd_limits", dict(instance=name, network_ingress="100Mbit"))
    if result.get("failed"):
        assert "tc" in result["msg"] and not result["changed"]
        after = own(primary, name)
        assert after["devices"] == before["devices"] and after["status"] == "Running"
    else:
        assert own(primary, name)["devices"]["eth0"]["limits.ingress"] == "100Mbit"


def test_missing_nic_is_named(run_module, instance):
    name = instance(state="stopped")
    result = run_module("lxd_limits", dict(instance=name, nic="eth7", network_ingress="10Mbit"))
    assert result["failed"] and "'eth7'" in result["msg"]


def test_profile_target(run_module, primary, unique):
    profile = unique("limits")
    pool = default_device(primary, "root")["pool"]
    run_module("lxd_profile", dict(name=profile, devices={"root": {"type": "disk", "path": "/", "pool": pool}}))
    result = run_module("lxd_limits", dict(profile=profile, cpu="0-0", memory="10%", processes=200,
                                           disk_size="2GiB"))
    assert result["changed"] and "usage" not in result
    current = primary.get(api_path("profiles", profile)).metadata
    assert current["config"] == {"limits.cpu": "0-0", "limits.memory": "10%", "limits.processes": "200"}
    assert current["devices"]["root"]["size"] == "2GiB"
    assert not run_module("lxd_limits", dict(profile=profile, cpu="0-0", memory="10%", processes=200,
                                             disk_size="2GiB"))["changed"]


@pytest.mark.parametrize("params, words", [
    (dict(memory_enforce="2GB"), ["memory_enforce", "2GB", "hard, soft"]),
    (dict(cpu="0-"), ["cpu", "'0-'"]),
    (dict(cpu_allowance="150%"), ["cpu_allowance", "'150%'", "1-100%"]),
    (dict(cpu_priority=11), ["cpu_priority", "0-10"]),
    (dict(memory="2 GB"), ["memory", "'2 GB'"]),
    (dict(disk_size="lots"), ["disk_size", "'lots'"]),
    (dict(disk_read="fast"), ["disk_read", "iops"]),
    (dict(network_ingress="100MB"), ["network_ingress", "Mbit"]),
    (dict(processes="many"), ["processes"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_limits", dict(instance="lxdops-test-any", **params))
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]


def test_instance_or_profile(run_module):
    assert run_module("lxd_limits", dict(cpu=1))["failed"]
    assert run_module("lxd_limits", dict(instance="a", profile="b", cpu=1))["failed"]
