#!/usr/bin/env python3
"""Tests of the Ambari alert script, without pytest: ``python3 test_logtriage_alert.py``.

Runs ``execute`` as Ambari's agent does, with the real logtriage binary (``LOGTRIAGE_BIN``,
default ``target/debug/logtriage`` of this repository) on logs in a temporary folder, and
checks the mapping of the exit codes to OK, WARNING, CRITICAL and UNKNOWN. With
``LOGTRIAGE_TEST_PACK`` (a rule pack file) only that pack is used (``tests/check.rs`` passes the
engine test pack); without it, the built-in packs.
"""

import os
import shutil
import stat
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import logtriage_alert  # noqa: E402

BIN = os.environ.get("LOGTRIAGE_BIN") or os.path.join(HERE, "..", "..", "target", "debug", "logtriage")
PACK = os.environ.get("LOGTRIAGE_TEST_PACK")

FAIL = (
    "2024-03-11 02:14:01,001 ERROR [com.koverse.server.ThriftServer] - accept failed\n"
    "java.io.IOException: Too many open files\n"
    "\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n"
)
OK_LINE = "2024-03-11 02:15:00,000 INFO  [com.koverse.server.Server] - fine\n"


def write(path, text):
    with open(path, "a") as f:
        f.write(text)


def params(tmp, **more):
    p = {
        "logtriage.binary": BIN,
        # A glob, a folder that exists, one that does not (left out).
        "logtriage.paths": "%s/koverse-server*, %s/hadoop-hdfs %s/nope" % (tmp, tmp, tmp),
        "logtriage.state": os.path.join(tmp, "state", "ambari.state"),
        "logtriage.timeout": 30,
    }
    if PACK:
        p["logtriage.extra_args"] = "--no-builtin-rules --rules '%s'" % PACK
    p.update(more)
    return p


def expect(result, code, starts):
    got, texts = result
    assert isinstance(texts, list) and len(texts) == 1, result
    assert got == code, "expected %s, got %r" % (code, result)
    assert texts[0].startswith(starts), "expected %r..., got %r" % (starts, texts[0])


def main():
    assert logtriage_alert.get_tokens() == ()
    tmp = tempfile.mkdtemp(prefix="logtriage-alert-")
    try:
        os.mkdir(os.path.join(tmp, "koverse-server"))
        os.mkdir(os.path.join(tmp, "hadoop-hdfs"))
        log = os.path.join(tmp, "koverse-server", "koverse-server.log")
        write(log, OK_LINE)
        write(os.path.join(tmp, "hadoop-hdfs", "hadoop-hdfs-namenode-node1.log"), "")
        p = params(tmp)

        # OK: nothing known (the state folder is created).
        expect(logtriage_alert.execute({}, p, "node1"), "OK", "OK - no new findings in 2 files")
        # CRITICAL: a high finding (critical at high by default), then OK: only new lines.
        write(log, FAIL + OK_LINE)
        r = logtriage_alert.execute({}, p, "node1")
        expect(r, "CRITICAL", "CRITICAL - 1 new finding: ")
        assert "critical=0 high=1 medium=0 low=0 info=0" in r[1][0], r
        assert "\nhigh: " in r[1][0], "the long output follows: %r" % (r,)
        expect(logtriage_alert.execute({}, p, "node1"), "OK", "OK - no new findings")
        # WARNING: the same finding with the critical level raised.
        write(log, FAIL + OK_LINE)
        pw = params(tmp, **{"logtriage.critical": "critical"})
        expect(logtriage_alert.execute({}, pw, "node1"), "WARNING", "WARNING - 1 new finding: ")
        # UNKNOWN: a damaged state file, named.
        with open(p["logtriage.state"], "w") as f:
            f.write("{")
        expect(logtriage_alert.execute({}, p, "node1"), "UNKNOWN", "UNKNOWN - state file ")
        os.remove(p["logtriage.state"])
        # UNKNOWN: a usage error (logtriage's 3, not clap's 2).
        pu = params(tmp, **{"logtriage.warning": "loud"})
        expect(logtriage_alert.execute({}, pu, "node1"), "UNKNOWN", "UNKNOWN - usage: ")
        # UNKNOWN: no such binary; none of the paths exist; a check that hangs (killed).
        pb = params(tmp, **{"logtriage.binary": os.path.join(tmp, "no-logtriage")})
        expect(logtriage_alert.execute({}, pb, "node1"), "UNKNOWN", "UNKNOWN - cannot run ")
        pn = params(tmp, **{"logtriage.paths": os.path.join(tmp, "gone*")})
        expect(logtriage_alert.execute({}, pn), "UNKNOWN", "UNKNOWN - none of the log paths exist")
        slow = os.path.join(tmp, "slow")
        with open(slow, "w") as f:
            f.write("#!/bin/sh\nsleep 30\n")
        os.chmod(slow, stat.S_IRWXU)
        ps = params(tmp, **{"logtriage.binary": slow, "logtriage.timeout": "0.5"})
        expect(logtriage_alert.execute({}, ps), "UNKNOWN", "UNKNOWN - logtriage check did not finish")
        # UNKNOWN: a binary that crashes (an exit code outside 0-3).
        bad = os.path.join(tmp, "bad")
        with open(bad, "w") as f:
            f.write("#!/bin/sh\necho boom >&2\nexit 134\n")
        os.chmod(bad, stat.S_IRWXU)
        pc = params(tmp, **{"logtriage.binary": bad})
        expect(logtriage_alert.execute({}, pc), "UNKNOWN", "UNKNOWN - logtriage check exited with 134: boom")
        # The first run starts at the end by default; from_end false reads the logs whole.
        fresh = os.path.join(tmp, "state", "fresh.state")
        pf = params(tmp, **{"logtriage.state": fresh})
        expect(logtriage_alert.execute({}, pf), "OK", "OK - no new findings")
        os.remove(fresh)
        pf["logtriage.from_end"] = "false"
        r = logtriage_alert.execute({}, pf)
        expect(r, "CRITICAL", "CRITICAL - 1 new finding: ")
        assert "2 times)" in r[1][0], r
    finally:
        shutil.rmtree(tmp)
    print("ok: OK, WARNING, CRITICAL and UNKNOWN mapped")


if __name__ == "__main__":
    main()
