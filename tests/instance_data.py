# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What integration tests read back from an instance: its record and a file inside it."""

from __future__ import annotations

import io

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path


def instance_of(client, name):
    return client.get(api_path("instances", name)).metadata


def read_file(client, name, path):
    sink = io.BytesIO()
    client.pull_file(name, path, sink)
    return sink.getvalue().decode()
