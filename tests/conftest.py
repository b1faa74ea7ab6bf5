# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make the tree importable as ansible_collections.lxdops.server when ./dev did not set PYTHONPATH."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
if not os.path.exists(os.path.join(COLLECTIONS, "ansible_collections", "lxdops", "server")):
    raise RuntimeError("run ./dev setup first: it links the tree as %s/ansible_collections/lxdops/server" % COLLECTIONS)
