# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_image against the lab's real daemons: images from files (unified and split) and copied
from the kind's other daemon over https with its certificate pinned.

The files are the lab's busybox tarball with a metadata description of the test's own, so each test has an
image (and a fingerprint) nobody else uses: the lab's own busybox image is never touched.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import http.server
import io
import json
import shutil
import ssl
import subprocess
import tarfile
import threading

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path
from faults import RefusingProxy


def sha256(*paths):
    digest = hashlib.sha256()
    for path in paths:
        digest.update(open(path, "rb").read())
    return digest.hexdigest()


def _write_tar(path, members):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


@pytest.fixture
def image_files(lab, tmp_path):
    """make(tag) -> {"unified": path, "metadata": path, "rootfs": path}: the lab's busybox with its own tag."""
    with tarfile.open(lab["images"]["busybox"]["file"]) as source:
        members = [(m, source.extractfile(m).read() if m.isfile() else None) for m in source.getmembers()]

    def make(tag):
        unified, metadata, rootfs = [], [], []
        for info, data in members:
            info = copy.copy(info)
            if info.name == "metadata.yaml":
                data = data.replace(b"lxdops lab busybox", b"lxdops lab busybox " + tag.encode())
            if data is not None:
                info.size = len(data)
            unified.append((info, data))
            if info.name == "rootfs" or info.name.startswith("rootfs/"):
                inner = copy.copy(info)
                inner.name = "." + info.name[len("rootfs"):]
                rootfs.append((inner, data))
            else:
                metadata.append((info, data))
        paths = dict((name, str(tmp_path / ("%s-%s.tar.gz" % (tag, name)))) for name in ("unified", "metadata", "rootfs"))
        _write_tar(paths["unified"], unified)
        _write_tar(paths["metadata"], metadata)
        _write_tar(paths["rootfs"], rootfs)
        return paths

    return make


def aliases_of(client, fingerprint):
    image = client.exists(api_path("images", fingerprint))
    return None if image is None else dict((a["name"], a["description"]) for a in image["aliases"])


def test_unified_file_check_mode_import_second_run_alias_change_delete(run_module, primary, unique, image_files):
    alias, other = unique("img"), unique("img")
    files = image_files(alias)
    fingerprint = sha256(files["unified"])
    params = dict(file=files["unified"], aliases=[alias], properties={"release": "site-build"})

    check = run_module("lxd_image", params, check=True)
    assert check["changed"] and check["actions"] == ["upload", "alias " + alias], check
    assert check["fingerprint"] == fingerprint and check["diff"]["after"]["image"]["fingerprint"] == fingerprint
    assert primary.exists(api_path("images", fingerprint)) is None
    assert primary.exists(api_path("images", "aliases", alias)) is None

    try:
        first = run_module("lxd_image", params)
        assert first["changed"] and first["fingerprint"] == fingerprint, first.get("msg")
        assert first["image"]["properties"]["release"] == "site-build"
        assert aliases_of(primary, fingerprint) == {alias: ""}

        # Known by the fingerprint of the file: nothing is uploaded again.
        second = run_module("lxd_image", params)
        assert not second["changed"] and second["actions"] == [], second
        assert second["_requests"] <= 4

        # An alias with a description added, the old one purged, a property removed, made public.
        change = dict(file=files["unified"], aliases=[{"name": other, "description": "site build"}],
                      purge_aliases=True, properties={"release": None}, public=True)
        changed = run_module("lxd_image", change)
        assert changed["changed"] and "upload" not in changed["actions"], changed
        assert changed["diff"]["before"]["aliases"][alias]["target"] == fingerprint
        assert changed["diff"]["after"]["aliases"][other] == {"target": fingerprint, "description": "site build"}
        assert aliases_of(primary, fingerprint) == {other: "site build"}
        image = primary.get(api_path("images", fingerprint)).metadata
        assert image["public"] and "release" not in image["properties"]
        assert not run_module("lxd_image", change)["changed"]

        # By fingerprint alone, the image on the server is managed: expiry set.
        expiry = run_module("lxd_image", dict(fingerprint=fingerprint, expires_at="2099-01-31T00:00:00Z"))
        assert expiry["changed"] and expiry["image"]["expires_at"].startswith("2099-01-31")
        assert not run_module("lxd_image", dict(fingerprint=fingerprint, expires_at="2099-01-31T00:00:00+00:00"))[
            "changed"]
    finally:
        check_delete = run_module("lxd_image", dict(aliases=[other], state="absent"), check=True)
        deleted = run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))
    assert check_delete["changed"] and check_delete["deleted"] == [fingerprint]
    assert deleted["changed"] and primary.exists(api_path("images", fingerprint)) is None
    assert not run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))["changed"]


def test_split_files(run_module, primary, unique, image_files):
    alias = unique("split")
    files = image_files(alias)
    fingerprint = sha256(files["metadata"], files["rootfs"])
    params = dict(file=files["metadata"], rootfs_file=files["rootfs"], aliases=[alias])
    try:
        first = run_module("lxd_image", params)
        assert first["changed"] and first["fingerprint"] == fingerprint, first.get("msg")
        image = primary.get(api_path("images", fingerprint)).metadata
        assert image["type"] == "container" and image["properties"]["description"].endswith(alias)
        again = run_module("lxd_image", params)
        assert not again["changed"] and again["actions"] == []
        # The alias names the image to delete.
        assert run_module("lxd_image", dict(aliases=[alias], state="absent"))["deleted"] == [fingerprint]
        assert primary.exists(api_path("images", fingerprint)) is None
    finally:
        run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))


def test_alias_of_another_image_is_moved(run_module, primary, unique, image_files):
    alias = unique("move")
    first_files, second_files = image_files(alias + "a"), image_files(alias + "b")
    one, two = sha256(first_files["unified"]), sha256(second_files["unified"])
    try:
        assert run_module("lxd_image", dict(file=first_files["unified"], aliases=[alias]))["changed"]
        moved = run_module("lxd_image", dict(file=second_files["unified"], aliases=[alias]))
        assert moved["changed"] and moved["diff"]["before"]["aliases"][alias]["target"] == one
        assert primary.get(api_path("images", "aliases", alias)).metadata["target"] == two
        assert aliases_of(primary, one) == {}
    finally:
        for fingerprint in (one, two):
            run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))


def test_failed_upload_leaves_nothing(run_module, primary, unique, tmp_path):
    bad = tmp_path / "not-an-image.tar.gz"
    with tarfile.open(str(bad), "w:gz") as tar:
        info = tarfile.TarInfo("hello")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    alias = unique("bad")
    result = run_module("lxd_image", dict(file=str(bad), aliases=[alias]))
    assert result.get("failed") and "upload of image" in result["msg"], result
    assert primary.exists(api_path("images", sha256(str(bad)))) is None
    assert primary.exists(api_path("images", "aliases", alias)) is None


@pytest.fixture
def refusing_proxy(lab, tmp_path):
    proxy = RefusingProxy(lab["daemons"]["primary"]["socket"], tmp_path)
    yield proxy
    proxy.close()


def test_refused_alias_write_rolls_back_the_image_and_its_aliases(run_module, primary, unique, image_files,
                                                                  refusing_proxy):
    """The daemon refuses the second alias after the image and the first alias exist: both go again."""
    first, second = unique("rbone"), unique("rbtwo")
    files = image_files(first)
    fingerprint = sha256(files["unified"])
    refusing_proxy.refuse("POST", "/1.0/images/aliases", lambda body: body["name"] == second)
    try:
        result = run_module("lxd_image", dict(url=refusing_proxy.url, file=files["unified"], aliases=[first, second]))
        assert result["failed"] and refusing_proxy.refused, result
        assert "refused by the test's proxy" in result["msg"], result["msg"]
        assert primary.exists(api_path("images", fingerprint)) is None
        assert primary.exists(api_path("images", "aliases", first)) is None
    finally:
        run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))


def test_refused_alias_write_gives_a_moved_alias_back(run_module, primary, unique, image_files, refusing_proxy):
    """An alias moved from an older image to the new one goes back to the older image when a later write fails."""
    moved, refused = unique("rbmove"), unique("rbnew")
    old_files, new_files = image_files(moved + "a"), image_files(moved + "b")
    old, new = sha256(old_files["unified"]), sha256(new_files["unified"])
    try:
        assert run_module("lxd_image", dict(file=old_files["unified"], aliases=[moved]))["changed"]
        refusing_proxy.refuse("POST", "/1.0/images/aliases", lambda body: body["name"] == refused)
        result = run_module("lxd_image", dict(url=refusing_proxy.url, file=new_files["unified"],
                                              aliases=[moved, refused]))
        assert result["failed"] and refusing_proxy.refused, result
        assert "alias " + moved in result["actions"], result
        assert primary.get(api_path("images", "aliases", moved)).metadata["target"] == old
        assert primary.exists(api_path("images", new)) is None
        assert primary.exists(api_path("images", "aliases", refused)) is None
    finally:
        for fingerprint in (old, new):
            run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))


@pytest.fixture
def remote_image(lab, run_module, unique, image_files):
    """make(public) -> (alias, fingerprint) of a new image on the kind's remote daemon."""
    made = []

    def make(public=True):
        alias = unique("remote")
        path = image_files(alias)["unified"]
        result = run_module("lxd_image", dict(url=lab["daemons"]["remote"]["url"], file=path, aliases=[alias],
                                              public=public))
        assert result["changed"], result.get("msg")
        made.append(result["fingerprint"])
        return alias, result["fingerprint"]

    yield make
    for fingerprint in made:
        run_module("lxd_image", dict(url=lab["daemons"]["remote"]["url"], fingerprint=fingerprint, state="absent"))


def test_copy_from_the_other_daemon_pinned(run_module, primary, unique, remote_https, remote_image):
    alias, fingerprint = remote_image(public=True)
    local = unique("copy")
    params = dict(remote=dict(remote_https, alias=alias), aliases=[local], auto_update=True)
    try:
        check = run_module("lxd_image", params, check=True)
        assert check["changed"] and check["actions"] == ["copy", "alias " + local], check
        assert primary.exists(api_path("images", fingerprint)) is None

        first = run_module("lxd_image", params)
        assert first["changed"] and first["fingerprint"] == fingerprint, first.get("msg")
        image = primary.get(api_path("images", fingerprint)).metadata
        assert image["auto_update"] and image["update_source"]["alias"] == alias
        assert image["update_source"]["server"] == remote_https["url"]
        assert aliases_of(primary, fingerprint) == {local: ""}

        again = run_module("lxd_image", params)
        assert not again["changed"] and again["actions"] == [], again

        off = run_module("lxd_image", dict(params, auto_update=False))
        assert off["changed"] and off["diff"]["after"] == {"auto_update": False}
        assert not primary.get(api_path("images", fingerprint)).metadata["auto_update"]
    finally:
        run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))


def test_copy_of_a_private_image_with_a_secret_the_module_asks_for(run_module, unique, remote_https, remote_image):
    alias, fingerprint = remote_image(public=False)
    try:
        first = run_module("lxd_image", dict(remote=dict(remote_https, alias=alias), aliases=[unique("priv")]))
        assert first["changed"] and first["fingerprint"] == fingerprint, first.get("msg")
        assert not run_module("lxd_image", dict(remote=dict(remote_https, alias=alias)))["changed"]
    finally:
        run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))


def test_copy_refused_when_the_pinned_certificate_differs(run_module, primary, lab, remote_https, remote_image):
    alias, fingerprint = remote_image(public=True)
    wrong = dict(remote_https, server_cert=lab["daemons"]["primary"]["server_cert"])
    result = run_module("lxd_image", dict(remote=dict(wrong, alias=alias)))
    assert result.get("failed") and "does not match the pinned" in result["msg"], result
    assert primary.exists(api_path("images", fingerprint)) is None


@pytest.mark.parametrize("params, words", [
    (dict(fingerprint="abc123"), ["fingerprint", "'abc123'", "64 hexadecimal digits"]),
    (dict(file="/nonexistent/image.tar.gz"), ["file", "/nonexistent/image.tar.gz", "no such file"]),
    (dict(remote=dict(url="https://127.0.0.1:1", alias="x", protocol="ftp")), ["protocol", "ftp", "lxd"]),
    (dict(remote=dict(url="http://127.0.0.1:1", alias="x")), ["remote.url", "https://"]),
    (dict(remote=dict(url="https://127.0.0.1:1")), ["remote.alias", "remote.fingerprint"]),
    (dict(remote=dict(url="https://127.0.0.1:1", alias="x", verify=False)), ["remote.verify", "server_cert"]),
    (dict(fingerprint="0" * 64, auto_update=True), ["auto_update", "remote"]),
    (dict(rootfs_file="/etc/hostname"), ["rootfs_file", "file"]),
    (dict(fingerprint="0" * 64, aliases=[""]), ["aliases", "''"]),
    (dict(fingerprint="0" * 64, expires_at="tomorrow"), ["expires_at", "tomorrow", "RFC 3339"]),
    (dict(state="absent"), ["state=absent", "fingerprint"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_image", params)
    assert result.get("failed"), result
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    assert result["_requests"] == 0


def test_files_that_do_not_have_the_fingerprint_given(run_module, primary, unique, image_files):
    files = image_files(unique("fp"))
    result = run_module("lxd_image", dict(file=files["unified"], fingerprint="1" * 64))
    assert result.get("failed") and sha256(files["unified"]) in result["msg"]
    assert result["_requests"] == 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def simplestreams(tmp_path, image_files, unique):
    """A simplestreams image server on 127.0.0.1 over https (a certificate of its own), serving one split image."""
    alias = unique("ss")
    files = image_files(alias)
    root = tmp_path / "simplestreams"
    (root / "streams" / "v1").mkdir(parents=True)
    (root / "images").mkdir()
    items = {}
    for ftype, name in (("lxd.tar.xz", "metadata"), ("root.tar.xz", "rootfs")):
        target = root / "images" / ("%s.tar.gz" % name)
        shutil.copy(files[name], str(target))
        items[ftype] = {"ftype": ftype, "path": "images/%s" % target.name, "sha256": sha256(str(target)),
                        "size": target.stat().st_size}
    fingerprint = sha256(files["metadata"], files["rootfs"])
    items["lxd.tar.xz"].update(combined_sha256=fingerprint, combined_rootxz_sha256=fingerprint)
    # Incus reads the metadata item under its own name; LXD skips an item type it does not know.
    items["incus.tar.xz"] = dict(items["lxd.tar.xz"], ftype="incus.tar.xz")
    product = "lxdops:test:amd64:default"
    images = {"content_id": "images", "datatype": "image-downloads", "format": "products:1.0",
              "products": {product: {"aliases": alias, "arch": "amd64", "os": "busybox", "release": "static",
                                     "release_title": "static", "variant": "default",
                                     "versions": {"20261202_0000": {"items": items}}}}}
    index = {"format": "index:1.0", "index": {"images": {"datatype": "image-downloads", "format": "products:1.0",
                                                         "path": "streams/v1/images.json", "products": [product]}}}
    (root / "streams" / "v1" / "images.json").write_text(json.dumps(images))
    (root / "streams" / "v1" / "index.json").write_text(json.dumps(index))
    crt, key = str(tmp_path / "ss.crt"), str(tmp_path / "ss.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": "https://127.0.0.1:%d" % server.server_address[1], "server_cert": crt, "alias": alias,
           "fingerprint": fingerprint}
    server.shutdown()
    server.server_close()


def test_copy_from_a_simplestreams_server(run_module, primary, unique, simplestreams):
    ss = simplestreams
    local = unique("ss-local")
    remote = dict(url=ss["url"], protocol="simplestreams", server_cert=ss["server_cert"], alias=ss["alias"])
    params = dict(remote=remote, aliases=[local], auto_update=True)
    try:
        check = run_module("lxd_image", params, check=True)
        assert check["changed"] and check["fingerprint"] is None and check["actions"][0] == "copy", check
        first = run_module("lxd_image", params)
        assert first["changed"] and first["fingerprint"] == ss["fingerprint"], first.get("msg")
        image = primary.get(api_path("images", ss["fingerprint"])).metadata
        assert image["auto_update"] and image["update_source"]["protocol"] == "simplestreams"
        assert aliases_of(primary, ss["fingerprint"]) == {local: ""}
        # Found again by where it came from, and by its fingerprint: nothing is copied twice.
        again = run_module("lxd_image", params)
        assert not again["changed"] and again["fingerprint"] == ss["fingerprint"], again
        pinned = dict(remote, alias=None, fingerprint=ss["fingerprint"])
        assert not run_module("lxd_image", dict(remote=pinned, aliases=[local]))["changed"]
    finally:
        run_module("lxd_image", dict(fingerprint=ss["fingerprint"], state="absent"))


def test_copy_from_a_daemon_of_the_other_kind(run_module, primary, lab, unique, image_files):
    # LXD pulls from Incus and Incus from LXD: each request names the source as its own daemon does.
    other_kind = "incus" if lab["kind"] == "lxd" else "lxd"
    other = lab["all_daemons"][lab["pairs"][other_kind]["remote"]]
    alias = unique("cross")
    made = run_module("lxd_image", dict(url=other["url"], file=image_files(alias)["unified"], aliases=[alias],
                                        public=True))
    fingerprint = made["fingerprint"]
    try:
        assert made["changed"], made.get("msg")
        remote = dict(url=other["https_url"], server_cert=other["server_cert"], client_cert=lab["client_cert"],
                      client_key=lab["client_key"], alias=alias)
        first = run_module("lxd_image", dict(remote=remote, aliases=[alias]))
        assert first["changed"] and first["fingerprint"] == fingerprint, first.get("msg")
        assert aliases_of(primary, fingerprint) == {alias: ""}
        assert not run_module("lxd_image", dict(remote=remote, aliases=[alias]))["changed"]
    finally:
        run_module("lxd_image", dict(fingerprint=fingerprint, state="absent"))
        run_module("lxd_image", dict(url=other["url"], fingerprint=fingerprint, state="absent"))
