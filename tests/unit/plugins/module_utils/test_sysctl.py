# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Applying kernel parameters, on a stand-in /proc/sys tree (files, one of them read-only)."""

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.lxdops.server.plugins.module_utils import sysctl
from ansible_collections.lxdops.server.plugins.module_utils.sysctl import apply, key_path, normalize_value


@pytest.fixture
def proc_sys(tmp_path):
    for key, value in {"vm.max_map_count": "65530", "fs.aio-max-nr": "65536", "kernel.dmesg_restrict": "0",
                       "net.ipv4.ip_local_port_range": "32768\t60999"}.items():
        path = tmp_path / key.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    os.chmod(tmp_path / "kernel" / "dmesg_restrict", 0o444)
    return str(tmp_path)


def test_apply_writes_verifies_and_skips(proc_sys, monkeypatch):
    real_write = sysctl.write_value

    def write(key, value, root):
        if key == "kernel.dmesg_restrict":
            # What a container's /proc/sys answers for a key of the host's kernel.
            raise OSError(errno.EROFS, "Read-only file system")
        real_write(key, value, root)

    monkeypatch.setattr(sysctl, "write_value", write)
    settings = {"vm.max_map_count": 262144, "fs.aio-max-nr": "65536", "kernel.dmesg_restrict": 1,
                "net.ipv4.ip_local_port_range": "32768 60999", "kernel.no_such_key": 1}
    result = apply(settings, root=proc_sys)
    assert result["changed"] == ["vm.max_map_count"]
    assert set(result["unsettable"]) == {"kernel.no_such_key", "kernel.dmesg_restrict"}
    assert "Read-only" in result["unsettable"]["kernel.dmesg_restrict"]
    assert result["values"]["vm.max_map_count"] == "262144"
    again = apply(settings, root=proc_sys)
    assert again["changed"] == []


def test_check_mode_writes_nothing(proc_sys):
    result = apply({"vm.max_map_count": 262144}, check_mode=True, root=proc_sys)
    assert result["changed"] == ["vm.max_map_count"]
    with open(os.path.join(proc_sys, "vm", "max_map_count")) as handle:
        assert handle.read().strip() == "65530"


def test_keys_and_values():
    assert key_path("net.ipv4.neigh.default.gc_thresh3", "/proc/sys") == "/proc/sys/net/ipv4/neigh/default/gc_thresh3"
    for bad in ("../etc/passwd", "vm..x", "a b", "/etc/passwd", "single"):
        with pytest.raises(ValueError):
            key_path(bad)
    assert normalize_value("32768   60999\n") == "32768\t60999"
    assert normalize_value(1048576) == "1048576"
