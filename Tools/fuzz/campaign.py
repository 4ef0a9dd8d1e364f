#!/usr/bin/env python3
"""The hostile-input campaign: damaged media and malformed models through the
built `vidlabel`, every run checked for what must never happen.

    campaign.py --bin BIN --work DIR [--media N] [--models N] [--scan-models N] [--seed S]

Generated inputs are deterministic for a seed. Every run must end on its own
(timeout: a hang), with a normal exit status (a signal: a crash), under 1 GiB
peak RSS, and print only whole one-line messages (`vidlabel: ...`) on stderr:
no Foundation error dump, no Swift runtime trap text, no sanitizer report.
Findings are written to WORK/findings.txt with the command that reproduces
each; the exit status is 1 if there is any.
"""
import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

RSS_LIMIT_KB = 1 << 20          # 1 GiB: a run above it is a finding
ADDRESS_SPACE = 6 << 30         # a hard stop for runaway allocations (the VM must survive)
RAW = ("Error Domain=", "NSCocoaErrorDomain", "DecodingError", "Fatal error", "AddressSanitizer", "LeakSanitizer",
       "Swift runtime failure", "Stack dump", "Illegal instruction", "Segmentation fault")


class Popen4(subprocess.Popen):
    """Popen that keeps the child's rusage (wait4) for the peak RSS of that one child."""

    def _try_wait(self, wait_flags):
        try:
            pid, sts, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            pid, sts, usage = self.pid, 0, None
        if pid == self.pid:
            self.rusage = usage
        return pid, sts



class Runner:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.runs = 0
        self.findings = []
        self.peak_kb = 0
        self.slowest = (0.0, "")

    def run(self, args, timeout=60, allowed=(0, 1), stdin=subprocess.DEVNULL, cwd=None, multiline_ok=False):
        """Runs vidlabel ARGS; records a finding for a crash, hang, memory, exit status or message problem."""
        self.runs += 1
        cmd = [self.binary] + args

        def limits():
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        start = time.monotonic()
        p = Popen4(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd or self.work,
                             preexec_fn=limits, start_new_session=True)
        err = b""
        hung = False
        try:
            err = p.communicate(timeout=timeout)[1]
        except subprocess.TimeoutExpired:
            hung = True
            os.killpg(p.pid, signal.SIGKILL)
            err = p.communicate()[1]
        elapsed = time.monotonic() - start
        usage = getattr(p, "rusage", None)
        rss = usage.ru_maxrss if usage else 0  # KiB on Linux
        self.peak_kb = max(self.peak_kb, rss)
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, " ".join(args))
        text = err.decode("utf-8", "replace")
        problem = None
        if hung:
            problem = f"hang (killed after {timeout} s)"
        elif p.returncode < 0:
            problem = f"crash: signal {-p.returncode}"
        elif p.returncode not in allowed:
            problem = f"exit status {p.returncode} (allowed {allowed})"
        elif rss > RSS_LIMIT_KB:
            problem = f"peak RSS {rss >> 10} MiB"
        elif any(r in text for r in RAW):
            problem = "raw runtime or Foundation error text on stderr"
        elif not multiline_ok and any(line and not line.startswith("vidlabel: ") for line in text.split("\n")):
            problem = "a message that is not one line"
        if problem:
            self.findings.append(f"{problem}: {' '.join(cmd)}\n    stderr: {text[:600]!r}")
        return p.returncode, text


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def media_campaign(r, fixtures, count, seed, batch_chunk):
    from media_variants import media_variants
    sources = [(n.split(".")[0] + "." + n.split(".")[1], os.path.join(fixtures, n)) for n in
               ["gop.mp4", "vp9.webm", "av1.mkv", "mjpeg.avi", "hevc10.mp4", "vfr.mp4", "scenes.mp4", "rotated.mp4",
                "oneframe.mp4", "truncated_mid.mp4", "corrupt.mp4", "zero_frames.avi"] if os.path.exists(os.path.join(fixtures, n))]
    out = os.path.join(r.work, "media")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    names = []
    for name, data in media_variants(sources, count, seed):
        path = os.path.join(out, name)
        write(path, data)
        names.append(path)
    for i, path in enumerate(names):
        r.run(["probe", path])
        # Every sampler over every mutant would be 3x the time: rotate them.
        sampling = [[], ["--sample", "interval:0.3"], ["--sample", "scenes", "--max-frames", "8"], ["--max-gap", "0.5"]][i % 4]
        r.run(["frames", path, "--max-frames", "40"] + sampling)
    # The full scan path (models, pipeline, aggregation) in one batch per chunk.
    for c in range(0, len(names), batch_chunk):
        chunk = os.path.join(r.work, f"chunk{c}")
        shutil.rmtree(chunk, ignore_errors=True)
        os.makedirs(chunk)
        for p in names[c:c + batch_chunk]:
            os.symlink(p, os.path.join(chunk, os.path.basename(p)))
        r.run(["batch", chunk, "--no-frames", "--jobs", "2", "-o", os.path.join(r.work, f"chunk{c}.jsonl"), "--quiet"],
              timeout=600)
    return len(names)


def model_campaign(r, fixtures, random_count, scan_count, seed):
    from model_variants import random_variants, structural_variants
    out = os.path.join(r.work, "models")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    labels = os.path.join(out, "labels.txt")
    write(labels, b"".join(b"class %d\n" % i for i in range(8)))
    variants = structural_variants() + random_variants(random_count, seed)
    clip = os.path.join(fixtures, "gop.mp4")
    for i, (name, data) in enumerate(variants):
        path = os.path.join(out, name + ".onnx")
        write(path, data)
        r.run(["bench-model", path, "--runs", "1", "--warmup", "0"])
        r.run(["inspect-model", path], multiline_ok=True)
        if i < scan_count:
            r.run(["scan", clip, "--model", path, "--labels", labels, "--input-size", "16", "--max-frames", "2"])
    return len(variants)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--fixtures", default="Fixtures/gen")
    ap.add_argument("--media", type=int, default=300)
    ap.add_argument("--models", type=int, default=40, help="random model variants (the structural ones always run)")
    ap.add_argument("--scan-models", type=int, default=20, help="variants also run through scan --model")
    ap.add_argument("--batch-chunk", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    fixtures = os.path.abspath(a.fixtures)
    os.makedirs(a.work, exist_ok=True)
    r = Runner(binary, os.path.abspath(a.work))
    t0 = time.monotonic()
    models = model_campaign(r, fixtures, a.models, a.scan_models, a.seed)
    t1 = time.monotonic()
    media = media_campaign(r, fixtures, a.media, a.seed, a.batch_chunk)
    t2 = time.monotonic()
    with open(os.path.join(a.work, "findings.txt"), "w") as f:
        f.write("\n".join(r.findings) + ("\n" if r.findings else ""))
    print(f"fuzz campaign (seed {a.seed}): {models} models ({t1 - t0:.0f} s), {media} media files ({t2 - t1:.0f} s), "
          f"{r.runs} runs; peak RSS {r.peak_kb >> 10} MiB; slowest {r.slowest[0]:.1f} s ({r.slowest[1][:80]}); "
          f"{len(r.findings)} findings")
    for finding in r.findings[:20]:
        print("  " + finding)
    sys.exit(1 if r.findings else 0)


if __name__ == "__main__":
    main()
