#!/usr/bin/env bash
# `make test`: `make install` into a temporary prefix, then the installed binary run
# by name from PATH in another folder, as a user would: it must find its models
# from its own real path (not from argv[0] or the working directory).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
prefix=$(mktemp -d /tmp/vidlabel-install.XXXXXX)
elsewhere=$(mktemp -d /tmp/vidlabel-elsewhere.XXXXXX)
trap 'rm -rf "$prefix" "$elsewhere"' EXIT
make --no-print-directory install PREFIX="$prefix" > "$prefix/install.log" || { cat "$prefix/install.log"; exit 1; }
for f in bin/vidlabel share/vidlabel/models/open-nsfw.onnx share/vidlabel/schema/report.schema.json \
         share/man/man1/vidlabel.1 share/bash-completion/completions/vidlabel share/zsh/site-functions/_vidlabel \
         share/fish/vendor_completions.d/vidlabel.fish; do
  [ -s "$prefix/$f" ] || { echo "install-smoke: $f missing after make install" >&2; exit 1; }
done
# Through a symlink too (as /usr/local/bin links often are): the real path decides.
mkdir -p "$elsewhere/links"
ln -s "$prefix/bin/vidlabel" "$elsewhere/links/vidlabel"
for dir in "$prefix/bin" "$elsewhere/links"; do
  out=$(cd "$elsewhere" && env -u VIDLABEL_MODELS PATH="$dir:/usr/bin:/bin" vidlabel scan "$repo/Fixtures/gen/gop.mp4" --no-frames)
  grep -q '"summary"' <<<"$out" || { echo "install-smoke: installed vidlabel (PATH=$dir) gave no report: $out" >&2; exit 1; }
done
# The text analyzer's models come with `make install`; NudeNet (AGPL-3.0) only with `make install-nudenet`.
out=$(cd "$elsewhere" && env -u VIDLABEL_MODELS PATH="$prefix/bin:/usr/bin:/bin" vidlabel scan "$repo/Fixtures/gen/page.mp4" --no-frames --analyzers moderation,topics,text)
grep -q 'Region-based segmentation' <<<"$out" || { echo "install-smoke: the installed text analyzer did not read the page: $out" >&2; exit 1; }
[ ! -e "$prefix/share/vidlabel/models/optional/nudenet-320n.onnx" ] || { echo "install-smoke: make install installed the AGPL NudeNet model" >&2; exit 1; }
if (cd "$elsewhere" && env -u VIDLABEL_MODELS PATH="$prefix/bin:/usr/bin:/bin" vidlabel scan "$repo/Fixtures/gen/astronaut.mp4" --analyzers moderation,topics,nudity >/dev/null 2>&1); then
  echo "install-smoke: the nudity analyzer ran without its optional model" >&2; exit 1
fi
make --no-print-directory install-nudenet PREFIX="$prefix" >> "$prefix/install.log" || { cat "$prefix/install.log"; exit 1; }
out=$(cd "$elsewhere" && env -u VIDLABEL_MODELS PATH="$prefix/bin:/usr/bin:/bin" vidlabel scan "$repo/Fixtures/gen/astronaut.mp4" --analyzers moderation,topics,nudity 2>/dev/null)
grep -q '"face_female"' <<<"$out" || { echo "install-smoke: the nudity analyzer found nothing after make install-nudenet: $out" >&2; exit 1; }
echo "install-smoke: make install PREFIX=<tmp>; vidlabel run by name from PATH (and through a symlink) in another folder, with text; NudeNet only after make install-nudenet: ok"
