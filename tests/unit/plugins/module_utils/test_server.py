# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure parts of server configuration: keys a daemon lacks, and what a refused update dropped."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.server import check_keys_for, lost_keys


def test_trust_password_is_refused_on_incus_naming_the_token():
    with pytest.raises(ConfigError) as err:
        check_keys_for("incus", {"images.auto_update_interval": "6", "core.trust_password": "pw"})
    message = str(err.value)
    assert "'core.trust_password'" in message and "Incus" in message and "trust_token" in message
    assert "pw" not in message.replace("password", "")


def test_trust_password_is_fine_on_lxd_and_null_is_nothing_to_do_on_incus():
    check_keys_for("lxd", {"core.trust_password": "pw"})
    check_keys_for("incus", {"core.trust_password": None, "images.auto_update_interval": "6"})


def test_lost_keys_are_the_ones_a_refused_update_changed():
    before = {"core.https_address": "127.0.0.1:8446", "images.auto_update_interval": "7",
              "core.trust_password": True}
    assert lost_keys(before, {"images.auto_update_interval": "7"}) == {"core.https_address": "127.0.0.1:8446"}
    assert lost_keys(before, dict(before)) == {}
    assert lost_keys(before, {"core.https_address": "127.0.0.1:8446", "images.auto_update_interval": "7"}) == {}
