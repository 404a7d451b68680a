"""Sweep logs archived in HDFS (or any file system Spark reads) with logtriage, as a Spark job.

Each file's bytes are piped, on the executors, to `logtriage scan --format json --stdin-name
PATH -` (the file's own path names its service and host, as a scan of a local copy would);
the driver collects the per-file JSON reports and `logtriage merge` makes them the one report
a sweep of all those files on one machine would give.

    spark-submit contrib/spark/sweep_hdfs.py --out /tmp/night hdfs:///archive/logs/2024-03-11/
    spark-submit --files /usr/bin/logtriage contrib/spark/sweep_hdfs.py --logtriage ./logtriage ...

Options: --logtriage BIN (the binary on the executors; default `logtriage` on PATH; ship it
with `spark-submit --files` and name it `./logtriage`), --merge-bin BIN (the binary on the
driver; default --logtriage), --out DIR (where merged.json, report.md and report.html go),
--scan-arg ARG (repeatable: more options for scan, e.g. --scan-arg=--tz=UTC), --partitions N.

A file is read whole into an executor's memory (Spark's binaryFiles): fine for rotated log
files of tens or hundreds of MiB; give the executors the memory of the largest file.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from urllib.parse import urlparse


def log_path(uri):
    """The path a file is named by: its URI's path (no scheme, no name node), so that the
    folders (`.../node1/hadoop-hdfs/...`) name the host as they do in a local copy."""
    return urlparse(uri).path or uri


def scan_one(item, binary, scan_args):
    """On an executor: one file's JSON report (or its error, for the merge's errors)."""
    uri, data = item
    name = log_path(uri)
    cmd = [binary, "scan", "--format", "json", "--quiet", "--stdin-name", name] + scan_args + ["-"]
    try:
        run = subprocess.run(cmd, input=bytes(data), capture_output=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as e:
        return (name, None, "logtriage could not run on the executor: %s" % e)
    # 0: no finding at --fail-on; 1: findings; 2: read in part (the report says so).
    if run.returncode in (0, 1, 2) and run.stdout:
        return (name, run.stdout.decode("utf-8"), None)
    why = run.stderr.decode("utf-8", "replace").strip() or "exit code %d" % run.returncode
    return (name, None, why)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", help="files or folders (hdfs://..., file://..., ...)")
    p.add_argument("--logtriage", default="logtriage")
    p.add_argument("--merge-bin", default=None)
    p.add_argument("--out", default="logtriage-sweep")
    p.add_argument("--scan-arg", action="append", default=[])
    p.add_argument("--partitions", type=int, default=None)
    p.add_argument("--master", default=None, help="e.g. local[2] (default: spark-submit's)")
    args = p.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("logtriage sweep")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    binary, scan_args = args.logtriage, list(args.scan_arg)
    # Folders are read recursively, as scan reads them.
    sc._jsc.hadoopConfiguration().set("mapreduce.input.fileinputformat.input.dir.recursive", "true")
    files = sc.binaryFiles(",".join(args.paths), minPartitions=args.partitions)
    results = files.map(lambda item: scan_one(item, binary, scan_args)).collect()
    spark.stop()

    # In path order, as a scan of the folders reads them.
    results.sort(key=lambda r: r[0])
    os.makedirs(args.out, exist_ok=True)
    reports, failed = [], []
    with tempfile.TemporaryDirectory(prefix="logtriage-spark-") as tmp:
        for i, (name, report, why) in enumerate(results):
            if report is None:
                failed += ["--failed", "%s=%s" % (name, why)]
                continue
            path = os.path.join(tmp, "%06d.json" % i)
            with open(path, "w", encoding="utf-8") as f:
                f.write(report)
            reports.append(path)
        merge = args.merge_bin or binary
        worst = 0
        for fmt, out in (("json", "merged.json"), ("markdown", "report.md"), ("html", "report.html")):
            run = subprocess.run(
                [merge, "merge", "--format", fmt, "-o", os.path.join(args.out, out)] + failed + reports
            )
            if run.returncode not in (0, 1, 2):
                print("logtriage merge failed (exit %d)" % run.returncode, file=sys.stderr)
                return 3
            worst = max(worst, run.returncode)
    print("%s: %d files swept, %d could not be" % (os.path.join(args.out, "report.html"), len(reports), len(failed) // 2))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
