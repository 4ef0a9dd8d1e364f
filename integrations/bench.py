"""`make bench`: the overhead of Beam and Spark around vidlabel. The same folder of
clips labelled by `vidlabel batch --jobs 2`, by a Beam DirectRunner pipeline with 2
worker processes, and by Spark local[2] (each with 1 engine thread per process);
whole wall times, each pipeline's minus batch's being the runner's overhead.
Usage: python integrations/bench.py VIDLABEL_BINARY FOLDER"""
import glob
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path[:0] = [os.path.join(ROOT, "integrations"), os.path.join(ROOT, "integrations", "beam"), os.path.join(ROOT, "integrations", "spark")]
os.environ["PYTHONPATH"] = os.pathsep.join(sys.path[:3] + [os.environ.get("PYTHONPATH", "")])
binary, folder = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
files = sorted(glob.glob(os.path.join(folder, "*.mp4")))
args = ["--no-frames", "--threads", "1"]
out = tempfile.mkdtemp(prefix="vidlabel-bench-")

t0 = time.time()
subprocess.run([binary, "batch", *files, "--jobs", "2", "-o", os.path.join(out, "batch.jsonl"), "--quiet", "--no-frames"], check=True)
batch = time.time() - t0

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from vidlabel_beam import LabelVideos  # noqa: E402

t0 = time.time()
with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"])) as p:
    r = p | beam.Create(files) | LabelVideos(binary=binary, args=args, match=False)
    r.records | "R" >> beam.io.WriteToText(os.path.join(out, "beam"), file_name_suffix=".jsonl")
beam_s = time.time() - t0

os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession  # noqa: E402
from vidlabel_spark import label_partition  # noqa: E402

t0 = time.time()
spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
spark.sparkContext.addPyFile(os.path.join(ROOT, "integrations", "vidlabel_worker.py"))
spark.sparkContext.addPyFile(os.path.join(ROOT, "integrations", "spark", "vidlabel_spark.py"))
n = spark.sparkContext.parallelize(files, 2).mapPartitions(lambda it: label_partition(it, binary=binary, args=args)).count()
spark.stop()
spark_s = time.time() - t0
print(f"{len(files)} clips: vidlabel batch --jobs 2 {batch:.2f} s   Beam DirectRunner x2 {beam_s:.2f} s (overhead {beam_s - batch:+.2f} s)"
      f"   Spark local[2] {spark_s:.2f} s incl. JVM start (overhead {spark_s - batch:+.2f} s)")
