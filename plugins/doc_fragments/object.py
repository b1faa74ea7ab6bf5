# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # What every named object of the server takes: its name, description and config.
    # Its argument spec is OBJECT_ARGUMENT_SPEC in module_utils/common.py; a module may give its own description
    # of an option (what its names or keys accept), never its type, default or choices.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the object.
    type: str
    required: true
  description:
    description:
      - Its description. Left as it is when not given.
    type: str
  config:
    description:
      - Its config keys. Values may be YAML strings, numbers or booleans; they are sent as the strings the daemon
        stores. A key set to V(null) is removed; keys not given are left alone. Known keys are validated before
        any request.
    type: dict
"""
