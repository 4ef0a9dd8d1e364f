#!/usr/bin/env bash
# Regenerates Sources/Inference/onnx.pb.swift from Tools/proto/onnx.proto.
# Run by hand only when onnx.proto changes; the output is committed so builds
# never need protoc or the (slow to build) protoc-gen-swift plugin.
#   onnx.proto: copied from the onnx==1.23.2 wheel (onnx/onnx.proto)
#   protoc:     Debian protobuf-compiler 3.21.12
#   plugin:     apple/swift-protobuf 1.39.0, `swift build -c release --product protoc-gen-swift`
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
plugin="${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the built protoc-gen-swift}"
out="$(mktemp -d)"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal \
  -I "$here/proto" --swift_out="$out" "$here/proto/onnx.proto"
cp "$out/onnx.pb.swift" "$here/../Sources/Inference/onnx.pb.swift"
rm -rf "$out"
