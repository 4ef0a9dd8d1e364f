"""The Beam and Spark integrations on real runners (Beam's DirectRunner in-process
and with 2 worker processes, Beam's bundle-based runner with retries, Spark
local[2]), against `vidlabel batch` on the same files.

Run by `make test` as: python integrations/tests/test_integrations.py VIDLABEL_BINARY
"""
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "integrations"), os.path.join(ROOT, "integrations", "beam"), os.path.join(ROOT, "integrations", "spark")]
os.environ["PYTHONPATH"] = os.pathsep.join(sys.path[:3] + [os.environ.get("PYTHONPATH", "")])

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from vidlabel_beam import LabelVideos  # noqa: E402

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "vidlabel"))
ARGS = ["--no-frames", "--threads", "1"]
GOOD = ["Fixtures/gen/gop.mp4", "Fixtures/gen/scenes.mp4", "Fixtures/gen/vfr.mp4", "Fixtures/gen/rotated.mp4",
        "Fixtures/gen/corrupt.mp4", "Models/samples/bikes.mp4", "Models/samples/bigbuckbunny.mp4"]
BROKEN = ["Fixtures/gen/garbage.mp4", "Fixtures/gen/truncated_moov.mp4", "Fixtures/gen/audio_only.mp4"]


class IntegrationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vidlabel-integrations-")
        cls.videos = os.path.join(cls.dir, "videos")
        os.mkdir(cls.videos)
        for rel in GOOD + BROKEN:
            shutil.copy(os.path.join(ROOT, rel), cls.videos)
        with open(os.path.join(cls.videos, "notes.txt"), "w") as f:
            f.write("not a video\n" * 50)
        cls.files = sorted(os.path.join(cls.videos, n) for n in os.listdir(cls.videos))
        # A wrapper that counts process starts, then runs the real binary.
        cls.starts = os.path.join(cls.dir, "starts.log")
        cls.wrapper = os.path.join(cls.dir, "vidlabel")
        with open(cls.wrapper, "w") as f:
            f.write(f'#!/bin/sh\necho "$$" >> "{cls.starts}"\nexec "{BINARY}" "$@"\n')
        os.chmod(cls.wrapper, 0o755)
        # What `vidlabel batch` writes for the same files and options.
        out = os.path.join(cls.dir, "batch.jsonl")
        subprocess.run([BINARY, "batch", *cls.files, "-o", out, "--quiet", *ARGS], check=False)
        with open(out) as f:
            cls.batch = [line.rstrip("\n") for line in f]
        cls.batch_ok = sorted(l for l in cls.batch if '"error":' not in l)
        batch_paths = {json.loads(l)["file"]["path"] for l in cls.batch}
        cls.batch_errors = sorted(json.loads(l)["file"]["path"] for l in cls.batch if '"error":' in l)
        # `batch` skips files that are not video (listed on stderr); the worker answers them with error records.
        cls.expected_errors = sorted(cls.batch_errors + [p for p in cls.files if p not in batch_paths])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def process_starts(self):
        if not os.path.exists(self.starts):
            return 0
        with open(self.starts) as f:
            return len(f.read().split())

    def run_beam(self, options, inputs, match):
        out = os.path.join(self.dir, "beam-" + "-".join(o.strip("-").replace("=", "_") for o in options)[:60])
        with beam.Pipeline(options=PipelineOptions(options)) as p:
            results = p | beam.Create(inputs) | LabelVideos(binary=self.wrapper, args=ARGS, match=match)
            results.records | "Records" >> beam.io.WriteToText(out + "/records", file_name_suffix=".jsonl")
            results.errors | "Errors" >> beam.io.WriteToText(out + "/errors", file_name_suffix=".jsonl")

        def read(prefix):
            lines = []
            for name in sorted(os.listdir(out)):
                if name.startswith(prefix):
                    with open(os.path.join(out, name)) as f:
                        lines += [l.rstrip("\n") for l in f if l.strip()]
            return lines
        return read("records"), read("errors")

    def check_beam(self, options):
        if os.path.exists(self.starts):
            os.remove(self.starts)
        records, errors = self.run_beam(options, [os.path.join(self.videos, "*")], match=True)
        self.assertEqual(sorted(records), self.batch_ok, "records byte-identical to vidlabel batch, one per video")
        self.assertEqual(len(records), len({json.loads(r)["file"]["path"] for r in records}), "one record per video")
        self.assertEqual(sorted(json.loads(e)["file"]["path"] for e in errors), self.expected_errors, "broken files are dead letters")
        starts = self.process_starts()
        self.assertGreaterEqual(starts, 1)
        self.assertLess(starts, len(self.files), f"a worker per DoFn instance, not a process per element ({starts} starts)")
        return starts

    def test_beam_direct_in_process(self):
        starts = self.check_beam(["--runner=DirectRunner"])
        print(f"beam DirectRunner in-process: {len(self.files)} files, {starts} vidlabel process(es)", file=sys.stderr)

    def test_beam_direct_two_worker_processes(self):
        starts = self.check_beam(["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"])
        print(f"beam DirectRunner multi_processing x2: {len(self.files)} files, {starts} vidlabel process(es)", file=sys.stderr)

    def test_beam_retries_a_transient_failure(self):
        """The first attempt finds the input missing (not staged yet): vidlabel marks the
        error transient, the DoFn raises, Beam retries the bundle, the retry succeeds."""
        late = os.path.join(self.dir, "late.mp4")
        source = os.path.join(ROOT, "Fixtures/gen/gop.mp4")
        seen = []

        class StageOnWarning(logging.Handler):
            def emit(self, record):
                if "could not be read right now" in record.getMessage():
                    seen.append(record.getMessage())
                    shutil.copy(source, late)

        handler = StageOnWarning()
        logging.getLogger("vidlabel_beam").addHandler(handler)
        try:
            records, errors = self.run_beam(["--runner=BundleBasedDirectRunner"], [late], match=False)
        finally:
            logging.getLogger("vidlabel_beam").removeHandler(handler)
        self.assertEqual(len(seen), 1, "one transient failure, then the retry")
        self.assertEqual(errors, [])
        self.assertEqual([json.loads(r)["file"]["path"] for r in records], [late])

    def test_bigquery_schema_covers_every_record(self):
        """The generated table schema has a column for every key vidlabel writes."""
        sys.path.insert(0, os.path.join(ROOT, "integrations", "beam"))
        import bigquery_schema
        fields = bigquery_schema.schema(os.path.join(ROOT, "Schemas", "report.schema.json"))

        def check(value, fs, where):
            names = {f["name"]: f for f in fs}
            for key, v in value.items():
                self.assertIn(key, names, f"{where}.{key} has no column")
                f = names[key]
                if f["type"] == "RECORD":
                    for item in (v if f["mode"] == "REPEATED" else [v]):
                        check(item, f["fields"], f"{where}.{key}")
        for line in self.batch:
            check(json.loads(line), fields, "record")

    def test_spark_local_two(self):
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        os.environ["PYSPARK_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession
        from vidlabel_spark import label_partition
        spark = (SparkSession.builder.master("local[2]").appName("vidlabel-test")
                 .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate())
        try:
            sc = spark.sparkContext
            sc.setLogLevel("ERROR")
            sc.addPyFile(os.path.join(ROOT, "integrations", "vidlabel_worker.py"))
            sc.addPyFile(os.path.join(ROOT, "integrations", "spark", "vidlabel_spark.py"))
            binary, args = BINARY, ARGS
            out = sc.parallelize(self.files, 2).mapPartitions(lambda it: label_partition(it, binary=binary, args=args)).collect()
        finally:
            spark.stop()
        self.assertEqual(sorted(line for kind, line in out if kind == "ok"), self.batch_ok, "Spark records byte-identical to vidlabel batch")
        self.assertEqual(sorted(json.loads(line)["file"]["path"] for kind, line in out if kind == "error"), self.expected_errors)


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    unittest.main(argv=sys.argv[:1], verbosity=2)
