# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Images without a daemon: fingerprints of files, streamed upload bodies, copy requests, plans."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
from urllib.parse import parse_qsl

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.diff import DifferenceTracker
from ansible_collections.lxdops.server.plugins.module_utils.image import (
    ConcatenatedBody,
    ImageManager,
    check_fingerprint,
    copy_request,
    expiry_of,
    files_sha256,
    find_copied,
    normalize_aliases,
    normalize_expires_at,
    normalize_properties,
    plan_aliases,
    plan_image_update,
    summary,
    upload_body,
    upload_headers,
)

FP = "5c837e7415e22343219b44d9c862648a39089a6696df50c6e4d1f7a6002ce487"
OTHER = "1" * 64


@pytest.fixture
def split(tmp_path):
    meta, rootfs = tmp_path / "meta.tar.xz", tmp_path / "rootfs.squashfs"
    meta.write_bytes(b"metadata bytes " * 1000)
    rootfs.write_bytes(bytes(range(256)) * 3000)
    return str(meta), str(rootfs)


def test_fingerprint_forms():
    assert check_fingerprint("fingerprint", FP.upper()) == FP
    for bad in ("", "5c837e", FP + "0", "g" * 64):
        with pytest.raises(ConfigError, match="64 hexadecimal digits"):
            check_fingerprint("fingerprint", bad)


def test_split_fingerprint_is_of_metadata_then_rootfs(split):
    meta, rootfs = split
    expected = hashlib.sha256(open(meta, "rb").read() + open(rootfs, "rb").read()).hexdigest()
    assert files_sha256([meta, rootfs]) == expected
    assert files_sha256([meta]) == hashlib.sha256(open(meta, "rb").read()).hexdigest()


def test_unified_body_is_the_file_streamed(split):
    meta, _rootfs = split
    body, content_type = upload_body(meta)
    assert content_type == "application/octet-stream" and body.length == len(open(meta, "rb").read())
    chunks = list(iter(lambda: body.read(4096), b""))
    assert max(len(c) for c in chunks) <= 4096 and b"".join(chunks) == open(meta, "rb").read()
    body.close()


def test_split_body_is_multipart_with_metadata_then_rootfs(split):
    meta, rootfs = split
    body, content_type = upload_body(meta, rootfs, boundary="b0undary")
    data = body.read()
    assert len(data) == body.length and content_type == "multipart/form-data; boundary=b0undary"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + data)
    parts = [(p.get_param("name", header="content-disposition"), p.get_payload(decode=True))
             for p in message.iter_parts()]
    assert parts == [("metadata", open(meta, "rb").read()), ("rootfs", open(rootfs, "rb").read())]
    body.close()


def test_a_virtual_machine_disk_goes_as_rootfs_img(tmp_path, split):
    meta, _rootfs = split
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(b"QFI\xfb" + b"\0" * 100)
    body, _type = upload_body(meta, str(disk), boundary="x")
    assert b'name="rootfs.img"' in body.read()


def test_concatenated_body_seeks_back_for_a_second_send(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    body = ConcatenatedBody([b"head-", str(path), b"-tail"])
    assert body.length == 20 and body.read(3) == b"hea" and body.tell() == 3
    assert body.read(7) == b"d-01234"
    body.seek(0)
    assert body.read() == b"head-0123456789-tail" and body.read(5) == b""
    body.close()


def test_upload_headers_use_the_daemons_own_prefix():
    lxd = upload_headers("lxd", FP, "application/octet-stream", 10, "i.tar.gz", public=True,
                         properties={"os": "Debian", "release": "12 bookworm", "gone": None})
    assert lxd["X-LXD-fingerprint"] == FP and lxd["X-LXD-public"] == "true" and lxd["Content-Length"] == "10"
    assert dict(parse_qsl(lxd["X-LXD-properties"])) == {"os": "Debian", "release": "12 bookworm"}
    incus = upload_headers("incus", FP, "application/octet-stream", 10, "i.tar.gz")
    assert incus["X-Incus-fingerprint"] == FP and not any(k.startswith("X-LXD") for k in incus)
    assert "X-Incus-public" not in incus and "X-Incus-properties" not in incus


def test_copy_request_from_a_server_of_the_family_pinned():
    body = copy_request("https://10.0.0.2:8443", "lxd", alias="debian/12", certificate="PEM", project="default",
                        public=False, auto_update=True, properties={"site": "a", "gone": None})
    assert body == {"source": {"type": "image", "mode": "pull", "server": "https://10.0.0.2:8443",
                               "protocol": "lxd", "alias": "debian/12", "certificate": "PEM"},
                    "public": False, "auto_update": True, "properties": {"site": "a"}}


def test_copy_request_from_simplestreams_by_fingerprint():
    body = copy_request("https://mirror.example.net/images", "simplestreams", fingerprint=FP,
                        image_type="container", project="p1")
    assert body == {"source": {"type": "image", "mode": "pull", "server": "https://mirror.example.net/images",
                               "protocol": "simplestreams", "fingerprint": FP, "image_type": "container",
                               "project": "p1"}}


def test_private_copy_carries_the_secret():
    body = copy_request("https://h:8443", "incus", fingerprint=FP, secret="s3cret")
    assert body["source"]["secret"] == "s3cret" and "alias" not in body["source"]


def test_an_earlier_copy_is_found_by_its_update_source():
    images = [
        {"fingerprint": OTHER, "cached": True,
         "update_source": {"server": "https://m/images", "protocol": "simplestreams", "alias": "debian/12"}},
        {"fingerprint": FP,
         "update_source": {"server": "https://m/images/", "protocol": "simplestreams", "alias": "debian/12"}},
    ]
    assert find_copied(images, "https://m/images", "simplestreams", "debian/12")["fingerprint"] == FP
    assert find_copied(images, "https://m/images", "simplestreams", "debian/11") is None
    assert find_copied(images, "https://other/images", "simplestreams", "debian/12") is None


def test_aliases_forms_and_refusals():
    assert normalize_aliases(["a", {"name": "b", "description": "B"}]) == {"a": None, "b": "B"}
    for bad, words in (([""], "alias name ''"), (["a", "a"], "given twice"), ([{"name": "a", "x": 1}], "unknown"),
                       ([" a"], "alias name"), ([{"name": "a", "description": 3}], "must be a string")):
        with pytest.raises(ConfigError, match=words):
            normalize_aliases(bad)


def test_properties_and_expiry_forms():
    assert normalize_properties({"a": 1, "b": True, "c": None}) == {"a": "1", "b": "true", "c": None}
    with pytest.raises(ConfigError, match="properties.a"):
        normalize_properties({"a": [1]})
    assert normalize_expires_at("2027-01-31T01:00:00+01:00") == "2027-01-31T00:00:00Z"
    with pytest.raises(ConfigError, match="RFC 3339"):
        normalize_expires_at("next week")
    assert expiry_of("1970-01-01T00:00:00Z") is None and expiry_of("0001-01-01T00:00:00Z") is None


CURRENT = {"fingerprint": FP, "public": False, "auto_update": True, "properties": {"os": "busybox", "x": "1"},
           "expires_at": "1970-01-01T00:00:00Z", "profiles": ["default", "big"], "aliases": [], "size": 5}


def test_no_update_when_everything_matches():
    tracker = DifferenceTracker()
    assert plan_image_update(CURRENT, tracker, public=False, auto_update=True, properties={"os": "busybox",
                                                                                           "y": None}) is None
    assert not tracker.has_changes


def test_update_sends_back_every_field_with_the_changes():
    tracker = DifferenceTracker()
    body = plan_image_update(CURRENT, tracker, public=True, properties={"x": None, "site": "a"},
                             expires_at="2027-01-31T00:00:00Z")
    assert body == {"public": True, "auto_update": True, "properties": {"os": "busybox", "site": "a"},
                    "expires_at": "2027-01-31T00:00:00Z", "profiles": ["default", "big"]}
    assert tracker.diff() == {"before": {"public": False, "properties": {"x": "1"}},
                              "after": {"public": True, "properties": {"site": "a"},
                                        "expires_at": "2027-01-31T00:00:00Z"}}
    same = dict(CURRENT, expires_at="2027-01-31T00:00:00.000000000Z")
    assert plan_image_update(same, DifferenceTracker(), expires_at="2027-01-31T00:00:00Z") is None


def test_alias_plan_creates_moves_describes_and_purges():
    existing = {"new-name": None, "moved": {"target": OTHER, "description": "kept"},
                "mine": {"target": FP, "description": ""}, "old": {"target": FP, "description": "x"},
                "theirs": {"target": OTHER, "description": ""}}
    existing = dict((k, v) for k, v in existing.items() if v)
    wanted = {"new-name": "N", "moved": None, "mine": "now described"}
    steps = plan_aliases(FP, wanted, existing, purge=True)
    assert steps == [
        ("create", "new-name", {"name": "new-name", "target": FP, "description": "N"}),
        ("move", "moved", {"target": FP, "description": "kept"}),
        ("describe", "mine", {"target": FP, "description": "now described"}),
        ("delete", "old", None),
    ]
    assert plan_aliases(FP, {"mine": None}, existing) == []


def test_summary_shows_what_the_module_manages():
    image = dict(CURRENT, aliases=[{"name": "a", "description": "d"}], expires_at="2027-01-31T00:00:00Z")
    assert summary(image) == {"fingerprint": FP, "aliases": {"a": "d"}, "public": False, "auto_update": True,
                              "properties": {"os": "busybox", "x": "1"}, "expires_at": "2027-01-31T00:00:00Z"}


class _RecordingClient:
    """Records what the manager's roll-back sends; `aliases` is what exists on the server."""

    def __init__(self, aliases):
        self.aliases = aliases
        self.calls = []

    def delete(self, path, **_kwargs):
        self.calls.append(("DELETE", path))

    def exists(self, path, **_kwargs):
        return self.aliases.get(path.rsplit("/", 1)[-1])

    def put(self, path, body, **_kwargs):
        self.calls.append(("PUT", path, body))

    def post(self, path, body, **_kwargs):
        self.calls.append(("POST", path, body))


class _Module:
    check_mode = False

    def __init__(self, client, **params):
        self.client = client
        self.params = dict(state="present", fingerprint=FP, file=None, rootfs_file=None, remote=None, aliases=None,
                           purge_aliases=False, public=None, auto_update=None, properties=None, expires_at=None)
        self.params.update(params)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_a_failed_run_undoes_what_it_did_newest_first():
    client = _RecordingClient({"moved": {"target": FP, "description": "kept"}})
    manager = ImageManager(_Module(client))
    manager.undo = [
        ("image", FP),
        ("alias-create", "new"),
        ("alias-restore", "moved", {"target": OTHER, "description": "kept"}),
        ("alias-restore", "purged", {"target": FP, "description": "p"}),
    ]
    manager.roll_back()
    assert client.calls == [
        ("POST", "/1.0/images/aliases", {"target": FP, "description": "p", "name": "purged"}),
        ("PUT", "/1.0/images/aliases/moved", {"target": OTHER, "description": "kept"}),
        ("DELETE", "/1.0/images/aliases/new"),
        ("DELETE", "/1.0/images/" + FP),
    ]
