import hashlib

import pytest

import lode
from conftest import LABELS_V1, LABELS_V2


def test_read_bytes_of_two_versions(workspace):
    ws = workspace["dir"]
    assert lode.read_bytes("data/labels.csv", rev="v1", repo=ws) == LABELS_V1.encode()
    assert lode.read_bytes("data/labels.csv", repo=ws) == LABELS_V2.encode()
    assert lode.read_bytes("data/labels.csv", rev="HEAD~1", repo=ws) == LABELS_V1.encode()
    assert lode.read_bytes("data/img/a.bin", rev="v1", repo=ws) == b"\x00\xffa"


def test_open_streams_a_chunked_file(workspace):
    ws, big = workspace["dir"], workspace["big"]
    h = hashlib.sha256()
    n = 0
    with lode.open("data/big.bin", rev="v1", repo=ws) as f:
        while True:
            piece = f.read(300_000)
            if not piece:
                break
            h.update(piece)
            n += len(piece)
    assert n == len(big)
    assert h.hexdigest() == hashlib.sha256(big).hexdigest()


def test_open_text_mode_and_cwd_default(workspace, monkeypatch):
    monkeypatch.chdir(workspace["dir"] / "data")
    with lode.open("data/labels.csv", rev="v1", mode="r") as f:
        assert f.readline() == "id,label\n"
        assert f.read() == LABELS_V1[len("id,label\n"):]


def test_missing_path_and_revision_raise_not_found_at_open(workspace):
    ws = workspace["dir"]
    with pytest.raises(FileNotFoundError) as e:
        lode.open("data/nope.csv", rev="v1", repo=ws)
    assert isinstance(e.value, lode.LodeNotFoundError)
    assert e.value.exit_code == 6
    assert e.value.message == "data/nope.csv is not in v1"
    assert e.value.hint
    with pytest.raises(lode.LodeNotFoundError):
        lode.read_bytes("data/img/b.bin", rev="v1", repo=ws)  # only in v2
    with pytest.raises(lode.LodeNotFoundError):
        lode.read_bytes("data/labels.csv", rev="no-such-rev", repo=ws)
    with pytest.raises(lode.LodeError) as d:
        lode.read_bytes("data/img", rev="v1", repo=ws)
    assert d.value.exit_code == 2
    with pytest.raises(ValueError):
        lode.open("data/labels.csv", mode="wb", repo=ws)


def test_ls(workspace):
    ws = workspace["dir"]
    assert lode.ls(repo=ws) == ["data"]
    assert lode.ls("data", rev="v1", repo=ws) == ["data/big.bin", "data/img", "data/labels.csv"]
    assert lode.ls("data", rev="v1", repo=ws, recursive=True) == ["data/big.bin", "data/img/a.bin", "data/labels.csv"]
    assert lode.ls("data/img", repo=ws) == ["data/img/a.bin", "data/img/b.bin"]
    detail = {e["name"]: e for e in lode.ls("data", rev="v1", repo=ws, detail=True)}
    assert detail["labels.csv"]["size"] == len(LABELS_V1)
    assert detail["labels.csv"]["id"] == hashlib.sha256(LABELS_V1.encode()).hexdigest()
    assert detail["big.bin"]["kind"] == "chunked"
    assert detail["img"]["kind"] == "tree"
    with pytest.raises(lode.LodeNotFoundError):
        lode.ls("data/nope", repo=ws)
