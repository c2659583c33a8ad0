"""A lode workspace with two versions, built with the lode binary under test.

The binary is $LODE_BIN (bin/lode.js of a built lode checkout, run with node),
by default the bin/lode.js of the repository this package lives in.
"""
import os
import pathlib
import random
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
os.environ.setdefault("LODE_BIN", str(ROOT / "bin" / "lode.js"))

LABELS_V1 = "id,label\n1,cat\n2,dog\n3,cat\n"
LABELS_V2 = "id,label\n1,cat\n2,cat\n3,cat\n4,bird\n"


def lode(*args, cwd):
    from lode import lode_command

    p = subprocess.run([*lode_command(), *args], cwd=cwd, capture_output=True, env={**os.environ, "NO_COLOR": "1", "CI": "1"})
    assert p.returncode == 0, f"lode {' '.join(args)}: {p.returncode}\n{p.stdout.decode()}\n{p.stderr.decode()}"
    return p.stdout


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """main = [v1 (tagged), v2]: labels.csv edited, big.bin (several chunks) unchanged, img/b.bin added."""
    ws = tmp_path_factory.mktemp("lode-py")
    lode("init", cwd=ws)
    rnd = random.Random(7)
    big = bytes(rnd.getrandbits(8) for _ in range(5 << 20))
    (ws / "data" / "img").mkdir(parents=True)
    (ws / "data" / "labels.csv").write_text(LABELS_V1)
    (ws / "data" / "big.bin").write_bytes(big)
    (ws / "data" / "img" / "a.bin").write_bytes(b"\x00\xffa")
    lode("add", "data", cwd=ws)
    lode("commit", "-m", "v1", cwd=ws)
    lode("tag", "v1", cwd=ws)
    (ws / "data" / "labels.csv").write_text(LABELS_V2)
    (ws / "data" / "img" / "b.bin").write_bytes(b"b\n")
    lode("add", "data", cwd=ws)
    lode("commit", "-m", "v2", cwd=ws)
    return {"dir": ws, "big": big}
