# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Offline stand-in for the pip bootstrap script ansible-test downloads for its sanity venvs.

ansible-test runs the script it caches under ~/.ansible/test/cache with pip's install
arguments. This installs the pip bundled with Python, then lets it install those arguments
from the package index. The CA bundle is named explicitly because ansible-test runs the
script with a filtered environment.
"""

from __future__ import annotations

import ensurepip
import subprocess
import sys

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
UNSUPPORTED = ("--no-setuptools", "--no-wheel")


def main():
    ensurepip.bootstrap()
    args = [arg for arg in sys.argv[1:] if arg not in UNSUPPORTED]
    return subprocess.call([sys.executable, "-m", "pip", "install", "--cert", CA_BUNDLE] + args)


if __name__ == "__main__":
    sys.exit(main())
