"""Record the state-dict keys and shapes of real timm's vit_tiny_patch16_224 (run once, by hand).

    pip install --no-deps --target /tmp/timm_pkg timm==1.0.31
    PYTHONPATH=/tmp/timm_pkg python tests/data/record_timm_keys.py > keys.json

timm needs torchvision, which would upgrade the pinned torch; torchvision is
replaced by an empty stand-in here. A VisionTransformer uses no part of it
(timm imports it at module level for data transforms and FrozenBatchNorm2d).
The output, compacted, is timm_vit_tiny_patch16_224_keys.json beside this file.
"""
import sys, types, importlib.abc, importlib.machinery

class _AnythingMeta(type):
    def __getattr__(cls, attr):
        return attr


def _Anything(name):
    return _AnythingMeta(name, (object,), {})


class _Stub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
    def create_module(self, spec):
        m = types.ModuleType(spec.name); m.__path__ = []
        def getattr_(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _Anything(attr) if attr[:1].isupper() else (lambda *a, **k: None)
        m.__getattr__ = getattr_
        return m
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, _Stub())
import json, timm
m = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=10)
print(json.dumps({"timm": timm.__version__, "model": "vit_tiny_patch16_224", "num_classes": 10,
                  "keys": {k: list(v.shape) for k, v in m.state_dict().items()}}, indent=1))
