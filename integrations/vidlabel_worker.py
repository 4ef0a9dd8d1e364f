"""A client for `vidlabel serve --stdio`: one long-lived vidlabel process (models
loaded once) that labels one video per request. Shared by the Beam and Spark
integrations; needs nothing but the Python standard library.

Protocol (see `vidlabel serve --help`): a JSON request line {"path": ...} in, one
JSON record line out, in order. A record with "error" is an error record; one whose
error has "transient": true means the input could not be read right now (retry it).
Exit status 75 means the worker itself cannot run (models missing): retry elsewhere.
"""
import json
import os
import subprocess

TRANSIENT_EXIT = 75


class WorkerError(RuntimeError):
    """The worker process stopped; `transient` when it asked to be retried (exit 75)."""

    def __init__(self, message, transient):
        super().__init__(message)
        self.transient = transient


class TransientInputError(RuntimeError):
    """An input could not be read right now (vidlabel said "transient": true): the runner should retry it."""


class Worker:
    """One `vidlabel serve --stdio` process. `binary`: the vidlabel executable (a
    path, or a name on PATH); `args`: scan options, as for `vidlabel batch`."""

    def __init__(self, binary="vidlabel", args=(), env=None):
        self.command = [binary, "serve", "--stdio", *args]
        # stderr is inherited: the worker's messages reach the runner's logs, and a
        # pipe nobody reads could fill and stall it.
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env if env is not None else os.environ.copy())

    def label(self, path):
        """The record line (str, no newline) vidlabel writes for the video at local `path`."""
        request = json.dumps({"path": path}) + "\n"
        try:
            self.process.stdin.write(request.encode("utf-8"))
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = b""
        if not line:
            code = self.process.wait()
            raise WorkerError(f"{' '.join(self.command)} exited with status {code}", transient=code == TRANSIENT_EXIT)
        return line.decode("utf-8").rstrip("\n")

    def __del__(self):
        # A DoFn instance dropped after an exception never sees teardown.
        try:
            self.close()
        except Exception:
            pass

    def close(self):
        if self.process.stdin and not self.process.stdin.closed and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()


def classify(line):
    """("ok" | "error" | "transient", record dict) for a record line."""
    record = json.loads(line)
    error = record.get("error")
    if error is None:
        return "ok", record
    return ("transient" if error.get("transient") else "error"), record


def replace_path(line, local, original):
    """The record line with its file path `local` (a staged temporary copy) put back
    as `original`, leaving every other byte as vidlabel wrote it."""
    if local == original:
        return line
    old = '"file":{"path":' + json.dumps(local, ensure_ascii=False)
    new = '"file":{"path":' + json.dumps(original, ensure_ascii=False)
    return line.replace(old, new, 1)
