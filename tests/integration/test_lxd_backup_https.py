# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxd_backup over https: the module on the controller fetches a backup there, and imports one from there."""

from __future__ import annotations

import os

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path


def test_fetch_to_the_controller_and_import_from_it(run_module, primary, lab, instance, unique, tmp_path):
    daemon = lab["daemons"]["primary"]
    https = dict(url=daemon["https_url"], client_cert=lab["client_cert"], client_key=lab["client_key"],
                 server_cert=daemon["server_cert"])
    name = instance("bkhttps")
    primary.execute(name, ["sh", "-c", "echo over-tls > /root/data"])
    dest = str(tmp_path / "fetched.tar.gz")
    result = run_module("lxd_backup", dict(https, instance=name, name="h", dest=dest))
    assert result["changed"] and result["actions"] == ["create", "export"], result
    assert os.path.getsize(dest) == result["dest"]["size"] > 0
    assert not run_module("lxd_backup", dict(https, instance=name, name="h", dest=dest))["changed"]
    target = unique("bkhttps2")
    imported = run_module("lxd_backup", dict(https, instance=target, state="imported", source=dest))
    assert imported["changed"] and imported["actions"] == ["import", "new hardware addresses"], imported
    primary.put(api_path("instances", target, "state"), {"action": "start", "timeout": 60})
    code, out, _err = primary.execute(target, ["cat", "/root/data"])
    assert code == 0 and out.decode().strip() == "over-tls"
