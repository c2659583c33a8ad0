import hashlib

import fsspec
import pytest

from conftest import LABELS_V1, LABELS_V2


def test_the_lode_protocol_is_registered_by_the_installed_package():
    from lode.fs import LodeFileSystem

    assert fsspec.get_filesystem_class("lode") is LodeFileSystem


def test_fsspec_open_cat_ls_info(workspace):
    ws, big = workspace["dir"], workspace["big"]
    with fsspec.open("lode://v1/data/labels.csv", "rt", repo=str(ws)) as f:
        assert f.read() == LABELS_V1
    with fsspec.open("lode://HEAD:data/labels.csv", "rb", repo=str(ws)) as f:
        assert f.read() == LABELS_V2.encode()
    fs = fsspec.filesystem("lode", repo=str(ws))
    assert hashlib.sha256(fs.cat_file("v1/data/big.bin")).hexdigest() == hashlib.sha256(big).hexdigest()
    assert fs.cat_file("v1/data/labels.csv", start=3, end=8) == LABELS_V1.encode()[3:8]
    assert fs.ls("v1/data", detail=False) == ["v1/data/big.bin", "v1/data/img", "v1/data/labels.csv"]
    assert fs.info("v1/data/labels.csv")["size"] == len(LABELS_V1)
    assert fs.info("v1/data/labels.csv")["type"] == "file"
    assert fs.info("v1/data/img")["type"] == "directory"
    assert fs.exists("v1/data/labels.csv")
    assert not fs.exists("v1/data/img/b.bin")
    assert fs.exists("HEAD/data/img/b.bin")
    with fs.open("v1/data/big.bin") as f:  # seekable, as pyarrow needs
        f.seek(len(big) - 10)
        assert f.read() == big[-10:]
    with pytest.raises(FileNotFoundError):
        fs.open("v1/data/nope.csv")


def test_pandas_read_csv_on_lode_urls(workspace, monkeypatch):
    pd = pytest.importorskip("pandas")
    ws = workspace["dir"]
    df = pd.read_csv("lode://v1/data/labels.csv", storage_options={"repo": str(ws)})
    assert list(df.columns) == ["id", "label"]
    assert df["label"].tolist() == ["cat", "dog", "cat"]
    monkeypatch.chdir(ws)
    df2 = pd.read_csv("lode://HEAD/data/labels.csv")
    assert df2["label"].tolist() == ["cat", "cat", "cat", "bird"]


def test_pyarrow_reads_parquet_through_lode(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from conftest import lode as run

    ws = tmp_path / "ws"
    ws.mkdir()
    run("init", cwd=ws)
    (ws / "data").mkdir()
    table = pa.table({"id": list(range(1000)), "label": ["cat" if i % 3 else "dog" for i in range(1000)]})
    pq.write_table(table, ws / "data" / "t.parquet")
    run("add", "data", cwd=ws)
    run("commit", "-m", "parquet", cwd=ws)
    (ws / "data" / "t.parquet").unlink()  # read from the version, not the disk
    got = pq.read_table("lode://HEAD/data/t.parquet", filesystem=fsspec.filesystem("lode", repo=str(ws)))
    assert got.equals(table)
    with fsspec.open("lode://HEAD/data/t.parquet", repo=str(ws)) as f:
        assert pq.read_table(f).equals(table)
    pd = pytest.importorskip("pandas")
    df = pd.read_parquet("lode://HEAD/data/t.parquet", storage_options={"repo": str(ws)})
    assert df["label"].tolist() == table.column("label").to_pylist()
