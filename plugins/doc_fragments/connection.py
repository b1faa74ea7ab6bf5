# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The connection options every module of this collection takes.
    # Their argument spec is CONNECTION_ARGUMENT_SPEC in module_utils/common.py; keep both in step.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - The LXD server to talk to, as V(unix:/path/to/unix.socket) or V(https://host:port) (port 8443 when omitted).
      - When not given, the E(LXD_URL) environment variable is used; without it, the first existing socket among
        E(LXD_DIR)/unix.socket, V(/var/snap/lxd/common/lxd/unix.socket) (snap) and V(/var/lib/lxd/unix.socket)
        (distribution package).
    type: str
  client_cert:
    description:
      - Path to the client certificate (PEM) presented to an https server.
      - Defaults to V(~/.config/lxc/client.crt), the certificate of the C(lxc) command line client.
      - Not used for unix sockets.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the private key of O(client_cert).
      - Defaults to V(~/.config/lxc/client.key).
    type: path
    aliases: [key_file]
  server_cert:
    description:
      - The server certificate to pin, as PEM text or a path to a PEM file (for example the server's
        V(/var/lib/lxd/server.crt), or the C(lxc) client's V(~/.config/lxc/servercerts/<remote>.crt)).
      - When given, the connection is accepted only if the server presents exactly this certificate,
        whatever its issuer or host names. This is how self-signed LXD servers are trusted safely.
      - When not given, the server certificate is verified against the system's certificate authorities,
        unless O(verify=false).
    type: str
  verify:
    description:
      - Verify the server's TLS certificate.
      - V(false) is an explicit opt-out that accepts any certificate; prefer O(server_cert).
    type: bool
    default: true
    aliases: [validate_certs]
  trust_token:
    description:
      - A trust token issued by the server (C(lxc config trust add) on the server, or
        M(lxdops.server.lxd_trust)), used once to add O(client_cert) to the server's trust store when the
        server does not trust it yet. Ignored when already trusted, so it may stay in the play.
      - With O(verify=false) and no O(server_cert), the token is sent only to a server that presents the
        certificate the token names (as C(lxc remote add) checks it).
      - Never logged.
    type: str
  trust_password:
    description:
      - The server's trust password (C(core.trust_password)), for servers that still accept one (LXD before 5.21).
        Used like O(trust_token), only when not yet trusted. Never logged.
      - Not sent to a server whose certificate is not checked (O(verify=false) without O(server_cert)); the task
        fails saying so.
    type: str
  project:
    description:
      - The LXD project to work in.
    type: str
    default: default
  timeout:
    description:
      - Seconds to wait for an answer to each request, and for each LXD operation to end.
    type: int
    default: 60
"""
