#!/usr/bin/env python
"""Ambari SCRIPT alert: the known failures written to this host's logs since the last run.

Ambari's agent imports this module and calls ``execute(configurations, parameters,
host_name)`` every ``interval`` minutes (see ``alerts.json``); it runs ``logtriage check`` on
the log locations of the Run Book with its own ``--state`` file, so each run reports only what
was written since the one before (through rotation and truncation), and maps the plugin's exit
code to Ambari's result: 0 OK, 1 WARNING, 2 CRITICAL, anything else UNKNOWN. The text is the
status line (``CRITICAL - 2 new findings: ... | critical=0 high=1 ...``) and the long-output
lines, one per finding.

Parameters (all optional, from the alert definition's ``source.parameters``):

- ``logtriage.binary``: the logtriage executable (default /usr/local/bin/logtriage, or the
  first ``logtriage`` on PATH);
- ``logtriage.paths``: log files and folders, separated by spaces or commas, shell globs
  expanded (default: the Run Book's locations below); those missing on this host are left out,
  as not every host runs every service;
- ``logtriage.state``: the state file (default /var/lib/logtriage/ambari-check.state);
- ``logtriage.warning``, ``logtriage.critical``: the levels (default medium, high);
- ``logtriage.from_end``: on the first run (no state file yet), start at the logs' end
  (default true: installing the alert does not raise last month's failures, and the first run
  does not read every log whole within the timeout); false reads them from their start;
- ``logtriage.extra_args``: more options, shell-quoted (``-g '*.log' --rules /etc/logtriage``);
- ``logtriage.timeout``: seconds before the check is killed and the alert is UNKNOWN
  (default 50; nothing is lost: the state is written only at the end of a run).

Written for the Python of Ambari 2.6 and 2.7 agents (2.7) and of later ones (3).
"""

import glob
import os
import shlex
import signal
import subprocess
import threading

DEFAULT_BINARY = "/usr/local/bin/logtriage"
DEFAULT_PATHS = (
    "/var/log/koverse-server /var/log/hadoop* /var/log/zookeeper "
    "/var/log/accumulo /var/log/postgresql"
)
DEFAULT_STATE = "/var/lib/logtriage/ambari-check.state"
DEFAULT_TIMEOUT = 50.0
# Characters of text given to Ambari (the status line and the long output).
MAX_TEXT = 4000

RESULTS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def get_tokens():
    """No Ambari configuration is needed: everything comes from the parameters."""
    return ()


def _param(parameters, name, default):
    value = (parameters or {}).get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return value


def _binary(parameters):
    given = _param(parameters, "logtriage.binary", None)
    if given:
        return str(given)
    if os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "logtriage")
        if d and os.access(p, os.X_OK):
            return p
    return DEFAULT_BINARY


def _paths(parameters):
    """The log paths that exist on this host (globs expanded), and the ones that do not."""
    spec = str(_param(parameters, "logtriage.paths", DEFAULT_PATHS))
    found, missing = [], []
    for word in spec.replace(",", " ").split():
        if any(c in word for c in "*?["):
            hits = sorted(glob.glob(word))
            found.extend(hits)
            if not hits:
                missing.append(word)
        elif os.path.exists(word):
            found.append(word)
        else:
            missing.append(word)
    return found, missing


def _run(cmd, timeout):
    """(exit code or None on timeout, stdout, stderr)."""
    with open(os.devnull) as devnull:
        proc = subprocess.Popen(
            cmd,
            stdin=devnull,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            # Its own process group: a timeout kills it and anything it started.
            preexec_fn=os.setsid,
        )
    timed_out = []

    def kill():
        timed_out.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        out, err = proc.communicate()
    finally:
        timer.cancel()
    if timed_out:
        return None, out, err
    return proc.returncode, out, err


def execute(configurations={}, parameters={}, host_name=None):
    """Runs ``logtriage check``; returns (result code, [text]) for Ambari."""
    binary = _binary(parameters)
    paths, missing = _paths(parameters)
    if not paths:
        return ("UNKNOWN", ["UNKNOWN - none of the log paths exist: " + " ".join(missing)])
    state = str(_param(parameters, "logtriage.state", DEFAULT_STATE))
    state_dir = os.path.dirname(state)
    if state_dir and not os.path.isdir(state_dir):
        try:
            os.makedirs(state_dir, 0o750)
        except OSError as e:
            return ("UNKNOWN", ["UNKNOWN - cannot create %s: %s" % (state_dir, e)])
    try:
        timeout = float(_param(parameters, "logtriage.timeout", DEFAULT_TIMEOUT))
    except (TypeError, ValueError):
        timeout = DEFAULT_TIMEOUT
    cmd = [
        binary,
        "check",
        "--state",
        state,
        "--warning",
        str(_param(parameters, "logtriage.warning", "medium")),
        "--critical",
        str(_param(parameters, "logtriage.critical", "high")),
    ]
    if str(_param(parameters, "logtriage.from_end", "true")).strip().lower() in ("true", "yes", "1"):
        cmd.append("--from-end")
    cmd.extend(shlex.split(str(_param(parameters, "logtriage.extra_args", ""))))
    cmd.append("--")
    cmd.extend(paths)
    try:
        code, out, err = _run(cmd, timeout)
    except OSError as e:
        return ("UNKNOWN", ["UNKNOWN - cannot run %s: %s" % (binary, e)])
    if code is None:
        return (
            "UNKNOWN",
            ["UNKNOWN - logtriage check did not finish within %g s (killed)" % timeout],
        )
    text = (out or "").strip()
    if code not in RESULTS or not text:
        last = (err or "").strip().splitlines()[-1:] or ["no output"]
        text = "UNKNOWN - logtriage check exited with %s: %s" % (code, last[0])
        return ("UNKNOWN", [text])
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 4].rstrip() + " ..."
    return (RESULTS[code], [text])


if __name__ == "__main__":
    import sys

    result, texts = execute(parameters={"logtriage.paths": " ".join(sys.argv[1:]) or DEFAULT_PATHS})
    print("%s: %s" % (result, texts[0]))
