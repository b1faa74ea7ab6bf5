# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What lxd_init, lxd_firewall and lxd_instances read from the daemon table, per daemon and distribution."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lxdops.server.plugins.filter.daemon_layout import daemon_layout


@pytest.mark.parametrize("kind, distribution, url, service, waitready, bridge", [
    ("lxd", "Debian", "unix:/var/lib/lxd/unix.socket", "lxd", ["lxd", "waitready"], "lxdbr0"),
    ("lxd", "Ubuntu", "unix:/var/snap/lxd/common/lxd/unix.socket", "snap.lxd.daemon", ["lxd", "waitready"], "lxdbr0"),
    ("incus", "Debian", "unix:/var/lib/incus/unix.socket", "incus", ["incus", "admin", "waitready"], "incusbr0"),
    ("incus", "Rocky", "unix:/var/lib/incus/unix.socket", "incus", ["incus", "admin", "waitready"], "incusbr0"),
])
def test_role_facts(kind, distribution, url, service, waitready, bridge):
    facts = daemon_layout(kind, {"distribution": distribution})
    assert (facts["url"], facts["service"], facts["waitready"], facts["bridge"]) == (url, service, waitready, bridge)
    assert facts["https_port"] == 8443
    assert facts["dir_env"] == ("LXD_DIR" if kind == "lxd" else "INCUS_DIR")


def test_bridge_and_port_need_no_facts():
    # lxd_init's and lxd_firewall's defaults read them without facts.
    assert daemon_layout("incus")["bridge"] == "incusbr0"
    assert daemon_layout("lxd")["https_port"] == 8443


def test_unknown_daemon_is_refused():
    with pytest.raises(AnsibleFilterError, match="lxdops_daemon: 'lxc' is not a daemon .* lxd, incus"):
        daemon_layout("lxc", {"distribution": "Debian"})
