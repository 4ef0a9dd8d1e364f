"""Apache Spark helper: label videos with one vidlabel worker process per partition.

    from vidlabel_spark import label_partition
    records = (spark.sparkContext.parallelize(paths, 8)
               .mapPartitions(lambda it: label_partition(it, binary="vidlabel-dist/bin/vidlabel", args=["--no-frames"])))

Ship the binary and models with `spark-submit --archives vidlabel-linux-x86_64.tar.gz#vidlabel-dist`
(`make dist` builds the tarball; the binary finds its models from its own real path)
and this file plus integrations/vidlabel_worker.py with `--py-files`. Set
`PYSPARK_PYTHON` (workers otherwise take the `python3` on PATH) and, on a laptop,
`SPARK_LOCAL_IP=127.0.0.1`.

Each yielded item is (kind, line): kind "ok" for a scan report, "error" for an error
record (a dead letter), line being vidlabel's JSON line byte for byte. A transient
error raises TransientInputError, so Spark retries the task.
"""
from vidlabel_worker import TransientInputError, Worker, classify

__all__ = ["label_partition", "TransientInputError"]


def label_partition(paths, binary="vidlabel", args=()):
    """mapPartitions function: paths (local to the executor) in, (kind, line) out."""
    worker = None
    try:
        for path in paths:
            if worker is None:
                # Started on the first element: an empty partition starts no process.
                worker = Worker(binary, args)
            line = worker.label(path)
            kind, record = classify(line)
            if kind == "transient":
                raise TransientInputError(f"{path}: {record['error']['message']}")
            yield kind, line
    finally:
        if worker is not None:
            worker.close()
