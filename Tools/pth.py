"""Reads old-style (pre-zip, protocol 2) PyTorch .pth state dicts without torch.

The legacy format is: pickle(magic), pickle(protocol), pickle(sys_info),
pickle(state_dict with persistent storage ids), pickle(storage keys), then for
each storage key an int64 element count followed by the raw little-endian data.
"""
import collections
import pickle
import struct

import numpy as np

_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
           "LongStorage": np.int64, "IntStorage": np.int32}


def load_state_dict(path):
    """Returns an OrderedDict name -> numpy array (copies, C-contiguous)."""
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, sys info
            pickle.load(f)
        storages = {}

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return lambda storage, offset, size, stride, *rest: (storage, offset, tuple(size), tuple(stride))
                if module == "torch" and name.endswith("Storage"):
                    return name
                if module == "collections" and name == "OrderedDict":
                    return collections.OrderedDict
                raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

            def persistent_load(self, pid):
                # ('storage', storage_type, key, location, size[, view_metadata])
                _, storage_type, key, _, _ = pid[:5]
                storages.setdefault(key, storage_type)
                return key

        state = Unpickler(f).load()
        keys = pickle.load(f)
        data = {}
        for key in keys:
            dtype = np.dtype(_DTYPES[storages[key]])
            (count,) = struct.unpack("<q", f.read(8))
            data[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)

    out = collections.OrderedDict()
    for name, (key, offset, size, stride) in state.items():
        flat = data[key]
        if not size:
            out[name] = flat[offset:offset + 1].reshape(())
            continue
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride])
        out[name] = np.ascontiguousarray(view)
    return out
