"""Bad input: 400 naming the field, nothing started; plus the schema's own rules."""

from __future__ import annotations

import json

import psutil
import pytest

from clustercraft.server.spec import Limits, SpecError, validate_cluster_spec, validate_patch

TIB = 2**40

BAD_CREATE_BODIES = [
    pytest.param(b"{not json", None, id="body-not-json"),
    pytest.param(b"[1, 2]", None, id="body-not-object"),
    pytest.param({"n_workers": 1, "colour": "red"}, "colour", id="unknown-field"),
    pytest.param({"factory": "os.system"}, "factory", id="no-factory-from-request"),
    pytest.param({"n_workers": "2"}, "n_workers", id="workers-string"),
    pytest.param({"n_workers": True}, "n_workers", id="workers-bool"),
    pytest.param({"n_workers": 1.5}, "n_workers", id="workers-float"),
    pytest.param({"n_workers": 0}, "n_workers", id="workers-zero"),
    pytest.param({"n_workers": -3}, "n_workers", id="workers-negative"),
    pytest.param({"n_workers": 10_000}, "n_workers", id="workers-over-limit"),
    pytest.param({"threads_per_worker": 0}, "threads_per_worker", id="threads-zero"),
    pytest.param({"threads_per_worker": 4096}, "threads_per_worker", id="threads-over-limit"),
    pytest.param({"memory_limit": "lots"}, "memory_limit", id="memory-unparsable"),
    pytest.param({"memory_limit": "-4GiB"}, "memory_limit", id="memory-negative"),
    pytest.param({"memory_limit": 0}, "memory_limit", id="memory-zero"),
    pytest.param({"memory_limit": [4]}, "memory_limit", id="memory-list"),
    pytest.param({"memory_limit": "20 MB"}, "memory_limit", id="memory-below-a-worker"),
    pytest.param(
        {"n_workers": 2, "memory_limit": "1 PiB"}, "memory_limit", id="memory-over-machine"
    ),
    pytest.param({"memory_limit": "1e400"}, "memory_limit", id="memory-overflows-float"),
    pytest.param({"memory_limit": "1e999kB"}, "memory_limit", id="memory-overflows-with-unit"),
    pytest.param({"memory_limit": "9" * 10_000_000}, "memory_limit", id="memory-10MB-of-digits"),
    pytest.param({"memory_limit": 10**400}, "memory_limit", id="memory-401-digit-integer"),
    pytest.param({"memory_limit": "GB"}, "memory_limit", id="memory-unit-without-number"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, None, id="body-nested-100000-deep"),
    pytest.param(
        b'{"adapt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None, id="adapt-nested-deep"
    ),
    pytest.param({"processes": "yes"}, "processes", id="processes-string"),
    pytest.param({"name": "x" * 65}, "name", id="name-too-long"),
    pytest.param({"name": "bad\nname"}, "name", id="name-control-char"),
    pytest.param({"name": "   "}, "name", id="name-blank"),
    pytest.param({"name": 7}, "name", id="name-number"),
    pytest.param({"adapt": {"minimum": 3, "maximum": 1}}, "adapt.minimum", id="adapt-min-over-max"),
    pytest.param({"adapt": {"minimum": 1}}, "adapt", id="adapt-missing-maximum"),
    pytest.param({"adapt": [1, 2]}, "adapt", id="adapt-not-object"),
    pytest.param(
        {"adapt": {"minimum": 0, "maximum": 10_000}}, "adapt.maximum", id="adapt-over-limit"
    ),
    pytest.param(
        {"n_workers": 5, "adapt": {"minimum": 1, "maximum": 2}},
        "n_workers",
        id="workers-outside-adapt",
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_CREATE_BODIES)
async def test_bad_create_is_400_with_the_field_and_starts_nothing(clusters, body, field):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    response = await clusters.request("POST", body=body)
    assert response.code == 400
    reply = json.loads(response.body)
    assert reply["field"] == field
    assert reply["message"] and "Traceback" not in reply["message"]
    assert clusters.manager.records == {}
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


def test_memory_strings_follow_parse_bytes():
    for text, expected in (("4GiB", 4 * 2**30), ("4 GB", 4 * 10**9), (2**30, 2**30)):
        assert validate_cluster_spec({"memory_limit": text}).options["memory_limit"] == expected


def test_totals_are_checked_against_the_limits():
    limits = Limits(max_workers=8, max_total_memory=8 * 2**30)
    spec = validate_cluster_spec({"n_workers": 4, "memory_limit": "2 GiB"}, limits=limits)
    assert (spec.n_workers, spec.options["memory_limit"]) == (4, 2 * 2**30)
    with pytest.raises(SpecError) as info:
        validate_cluster_spec({"n_workers": 5, "memory_limit": "2 GiB"}, limits=limits)
    assert info.value.field == "memory_limit"
    with pytest.raises(SpecError) as info:
        validate_patch({"n_workers": 5}, limits, memory_limit=2 * 2**30)
    assert info.value.field == "n_workers"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"n_workers": 1, "adapt": None}, None),
        ({"n_workers": "1"}, "n_workers"),
        ({"adapt": {"minimum": -1, "maximum": 2}}, "adapt.minimum"),
        ({"threads_per_worker": 2}, "threads_per_worker"),
    ],
)
def test_bad_patch_names_the_field(body, field):
    with pytest.raises(SpecError) as info:
        validate_patch(body, Limits(max_workers=8))
    assert info.value.field == field


def test_good_patches():
    assert validate_patch({"n_workers": 0}).n_workers == 0
    assert validate_patch({"adapt": None}).adapt is None
    assert validate_patch({"adapt": {"minimum": 0, "maximum": 3}}).adapt.maximum == 3


async def test_an_unknown_field_is_never_echoed_whole(clusters):
    key = "k" * 10_000_000
    response = await clusters.request("POST", body={key: 1})
    assert response.code == 400
    assert len(response.body) < 1_000
    reply = json.loads(response.body)
    assert reply["field"].startswith("kkk") and len(reply["field"]) <= 64


async def test_a_name_in_use_is_409_naming_name_however_it_is_typed(clusters):
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    assert nfc != nfd
    created = await clusters.create(name=nfc, n_workers=1, processes=False)
    assert created["name"] == nfc
    response = await clusters.request("POST", body={"name": nfd, "n_workers": 1})
    assert response.code == 409
    assert json.loads(response.body)["field"] == "name"
    await clusters.request("DELETE", created["id"])


async def test_scaling_obeys_the_same_memory_limit_as_creating(clusters):
    """An "auto" limit gives each worker a share of the machine; scaling past it is refused."""
    created = await clusters.create(n_workers=1, processes=False)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    per_worker = cluster["workers"][0]["memory_limit"]
    too_many = clusters.manager.limits.max_total_memory // per_worker + 1
    response = await clusters.request("PATCH", created["id"], body={"n_workers": too_many})
    assert response.code == 400, response.body
    assert json.loads(response.body)["field"] == "n_workers"
    assert (await clusters.get(created["id"]))["requested_workers"] == 1
    await clusters.request("DELETE", created["id"])


async def test_an_unwritable_runtime_dir_is_a_clear_error_and_leaves_no_ghost(
    clusters, jp_ws_fetch, tmp_path
):
    manager = clusters.manager
    runtime_dir = manager.runtime_dir
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # root writes anywhere, but never inside a file
    manager.runtime_dir = str(blocker / "clustercraft")
    try:
        response = await clusters.request("POST", body={"name": "ghost", "n_workers": 1})
        assert response.code == 503
        assert "cannot start a cluster host" in json.loads(response.body)["message"]
        assert manager.records == {}
        # The push channel still opens: the standby it would start fails quietly.
        ws = await jp_ws_fetch("clustercraft", "clusters", "events")
        assert json.loads(await ws.read_message()) == {"type": "snapshot", "clusters": []}
        assert manager.standby.host is None
        ws.close()
    finally:
        manager.runtime_dir = runtime_dir
    response = await clusters.request("POST", body={"name": "ghost", "n_workers": 1})
    assert response.code == 201  # the name was never taken
    await clusters.request("DELETE", json.loads(response.body)["id"])
