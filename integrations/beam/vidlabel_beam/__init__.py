"""Apache Beam transforms that label videos with vidlabel running inside the workers.

    import apache_beam as beam
    from vidlabel_beam import LabelVideos

    with beam.Pipeline(options=...) as p:
        results = p | beam.Create(["gs://bucket/videos/*.mp4"]) | LabelVideos(args=["--no-frames"])
        results.records | "Records" >> beam.io.WriteToText("out/records", file_name_suffix=".jsonl")
        results.errors | "Errors" >> beam.io.WriteToText("out/errors", file_name_suffix=".jsonl")

Each DoFn instance keeps one `vidlabel serve --stdio` process (models loaded once,
in `setup`, stopped in `teardown`). Inputs that are not local files (gs://, s3://,
http...) are copied through Beam's FileSystems to a local temporary file, removed
after use; the record keeps the original URI. Records are vidlabel's own JSON lines,
byte for byte (each carries tool.version, the models' sha256 and the options
fingerprint, so a retried element writes the same bytes).
"""
import logging
import os
import shutil
import tempfile

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import TaggedOutput

# integrations/vidlabel_worker.py, shared with the Spark helper (on PYTHONPATH with this package).
from vidlabel_worker import TransientInputError, Worker, WorkerError, classify, replace_path

__all__ = ["LabelVideos", "TransientInputError", "WorkerError", "RECORDS", "ERRORS"]

RECORDS = "records"
ERRORS = "errors"
_LOG = logging.getLogger("vidlabel_beam")


def _is_local(uri):
    scheme = FileSystems.get_scheme(uri)
    return scheme is None or scheme == "file"


class _LabelFn(beam.DoFn):
    """One vidlabel worker per DoFn instance; each element a video URI."""

    def __init__(self, binary, args):
        self.binary = binary
        self.args = list(args)
        self.worker = None

    def setup(self):
        self.worker = Worker(self.binary, self.args)

    def process(self, uri):
        local, tmpdir = uri, None
        if not _is_local(uri):
            tmpdir = tempfile.mkdtemp(prefix="vidlabel-")
            local = os.path.join(tmpdir, os.path.basename(uri.rstrip("/")) or "input")
            with FileSystems.open(uri) as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        elif uri.startswith("file://"):
            local = uri[len("file://"):]
        try:
            try:
                line = self.worker.label(local)
            except WorkerError as e:
                # The process died (or asked to be retried): a new DoFn instance starts a new one.
                self.worker = None
                raise e
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
        line = replace_path(line, local, uri)
        kind, record = classify(line)
        if kind == "transient":
            _LOG.warning("vidlabel: %s could not be read right now (%s); the runner will retry it", uri, record["error"]["message"])
            raise TransientInputError(f"{uri}: {record['error']['message']}")
        if kind == "error":
            yield TaggedOutput(ERRORS, line)
        else:
            yield line

    def teardown(self):
        if self.worker is not None:
            self.worker.close()
            self.worker = None


class LabelVideos(beam.PTransform):
    """Labels videos. Input: file patterns (`match=True`, the default: each element is
    a pattern for MatchAll) or URIs (`match=False`). Output: a tuple with `records`
    (scan reports, JSON lines) and `errors` (error records of inputs that are not
    usable videos: the dead-letter output). `binary`: the vidlabel executable on the
    workers; `args`: scan options passed through (e.g. ["--sample", "interval:2"])."""

    def __init__(self, binary="vidlabel", args=(), match=True):
        super().__init__()
        self.binary = binary
        self.args = list(args)
        self.match = match

    def expand(self, pcoll):
        uris = pcoll
        if self.match:
            uris = (pcoll | "Match" >> fileio.MatchAll()
                    | "Paths" >> beam.Map(lambda m: m.path))
        # Reshuffle: spread the files over workers (a pattern matches on one).
        return (uris | "Reshuffle" >> beam.Reshuffle()
                | "Label" >> beam.ParDo(_LabelFn(self.binary, self.args)).with_outputs(ERRORS, main=RECORDS))
