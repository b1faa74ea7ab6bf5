# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxd_info's pure parts: sections, the server summary, projects of profiles, the instances filter."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import SERVER_SECRET_KEYS, ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.info import (
    SECTIONS,
    check_gather,
    own_project,
    profile_projects,
    project_entry,
    select_instances,
    server_summary,
    with_project,
)


def test_gather():
    assert check_gather(list(SECTIONS)) == list(SECTIONS)
    assert check_gather(["projects", "server", "projects"]) == ["projects", "server"]
    with pytest.raises(ConfigError, match="gather is empty; give one or more of server, instances"):
        check_gather([])
    with pytest.raises(ConfigError, match="gather 'state' is not accepted; accepted: server, .*storage_pools"):
        check_gather(["state"])


def test_server_summary_leaves_secrets_out():
    config = dict((key, "s3cret") for key in SERVER_SECRET_KEYS)
    config["core.https_address"] = "[::]:8443"
    summary = server_summary({"api_version": "1.0", "auth": "trusted", "api_extensions": ["projects"],
                              "config": config, "environment": {"server_name": "lxd1", "server": "lxd",
                                                                "server_version": "5.0.2", "kernel_features": {}}})
    assert summary["config"] == {"core.https_address": "[::]:8443"}
    assert summary["server_name"] == "lxd1" and summary["server_version"] == "5.0.2"
    assert summary["api_extensions"] == ["projects"] and summary["auth"] == "trusted"
    assert "kernel_features" not in summary
    # Missing fields are there, as None, so a playbook can test them.
    assert summary["os_name"] is None and server_summary({})["config"] == {}


def test_profile_projects():
    projects = [{"name": "default", "config": {"features.profiles": "true"}},
                {"name": "web", "config": {"features.profiles": "true"}},
                {"name": "shared", "config": {"features.profiles": "false"}},
                {"name": "bare"}]
    assert profile_projects(projects) == ["default", "web"]
    assert own_project(projects[1], "features.profiles", "web") == "web"
    assert own_project(projects[2], "features.profiles", "shared") == "default"
    assert own_project({"name": "default"}, "features.profiles", "default") == "default"


def test_with_project_keeps_what_lxd_says():
    items = with_project([{"name": "a"}, {"name": "b", "project": "web"}], "default")
    assert [i["project"] for i in items] == ["default", "web"]
    assert with_project(None, "x") == []


def test_select_instances():
    instances = [{"name": "web1", "project": "default"}, {"name": "web1", "project": "p"}, {"name": "db1"}]
    assert select_instances(instances, None) == (instances, [])
    selected, missing = select_instances(instances, ["web1", "nope", "nope", "db2"])
    assert selected == instances[:2] and missing == ["nope", "db2"]
    assert select_instances([], ["a"]) == ([], ["a"])


def test_project_entry():
    assert project_entry({"name": "p", "config": None}) == {"name": "p", "description": "", "config": {},
                                                            "used_by": []}
