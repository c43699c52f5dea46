#!/usr/bin/env python3
"""export_models.py — export real detection networks to ONNX with torch.onnx.export (device machine:
torch 2.11, torchvision 0.26, onnx, onnxruntime; no network access, so no pretrained weights).

    python3 bench/export_models.py [--out DIR] [--models a,b] [--batches 1,2] [--init random|default]

Models (network only: backbone + head modules, no transform, no anchors/postprocess; weights=None,
weights_backbone=None, seeded; input "images" [batch,3,S,S], batch dynamic; opset 17):
  ssd300_r50          NVIDIA DeepLearningExamples SSD300 rebuilt on torchvision resnet50
                      (conv1..layer3, layer3 block 0 stride 1), outputs (locs [B,4,8732], confs [B,81,8732]), 300
  ssd300_vgg16        torchvision ssd300_vgg16 backbone + SSDHead -> (bbox_regression, cls_logits), 300
  ssdlite320_mbv3     torchvision ssdlite320_mobilenet_v3_large backbone + SSDLiteHead, 320
  retinanet_r50_fpn   torchvision RetinaNet: resnet50 with FrozenBatchNorm2d (as the pretrained model)
                      + FPN + LastLevelP6P7, RetinaNetHead -> (cls_logits, bbox_regression), 800
  retinanet_r50_fpn_512  the same at 512 (CI size)
--init random (default): Conv weights He-normal, biases U(-0.1,0.1), every BatchNorm /
FrozenBatchNorm2d with random affine and running statistics, so no op is an identity and
outputs are O(1)..O(10); --init default keeps torchvision's initialization.
Per model and batch it also writes DIR/<model>.b<B>.in.bin (random input) and
DIR/<model>.b<B>.ort.bin (ONNX Runtime CPU outputs, graph optimizations all) in odet's tensor
format, and checks ORT against torch (max|diff|/max|ref| per output). The legacy TorchScript
exporter is used (dynamo=False where the argument exists; torch >= 2.9 defaults to dynamo);
if it is unavailable the dynamo exporter is tried with a dynamic batch Dim.
Prints one line per model: parameters, file size, export seconds, ORT-vs-torch errors.
"""
import argparse
import inspect
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gen"))
import tensorfile  # noqa: E402


# ------------------------------------------------------------------ NVIDIA SSD300 (ResNet-50)
class NvResNet(nn.Module):
    """DeepLearningExamples/PyTorch/Detection/SSD/ssd/model.py: ResNet('resnet50')."""

    def __init__(self):
        super().__init__()
        from torchvision.models import resnet50
        backbone = resnet50(weights=None)
        self.out_channels = [1024, 512, 512, 256, 256, 256]
        self.feature_extractor = nn.Sequential(*list(backbone.children())[:7])
        conv4_block1 = self.feature_extractor[-1][0]
        conv4_block1.conv1.stride = (1, 1)
        conv4_block1.conv2.stride = (1, 1)
        conv4_block1.downsample[0].stride = (1, 1)

    def forward(self, x):
        return self.feature_extractor(x)


class NvSSD300(nn.Module):
    """SSD300 of DeepLearningExamples: additional blocks, loc/conf heads, bbox_view."""

    def __init__(self, label_num=81):
        super().__init__()
        self.feature_extractor = NvResNet()
        self.label_num = label_num
        self._build_additional_features(self.feature_extractor.out_channels)
        self.num_defaults = [4, 6, 6, 6, 4, 4]
        self.loc, self.conf = [], []
        for nd, oc in zip(self.num_defaults, self.feature_extractor.out_channels):
            self.loc.append(nn.Conv2d(oc, nd * 4, kernel_size=3, padding=1))
            self.conf.append(nn.Conv2d(oc, nd * self.label_num, kernel_size=3, padding=1))
        self.loc = nn.ModuleList(self.loc)
        self.conf = nn.ModuleList(self.conf)
        for layer in [*self.additional_blocks, *self.loc, *self.conf]:
            for param in layer.parameters():
                if param.dim() > 1:
                    nn.init.xavier_uniform_(param)

    def _build_additional_features(self, input_size):
        self.additional_blocks = []
        for i, (input_size, output_size, channels) in enumerate(
                zip(input_size[:-1], input_size[1:], [256, 256, 128, 128, 128])):
            if i < 3:
                layer = nn.Sequential(
                    nn.Conv2d(input_size, channels, kernel_size=1, bias=False),
                    nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
                    nn.Conv2d(channels, output_size, kernel_size=3, padding=1, stride=2, bias=False),
                    nn.BatchNorm2d(output_size), nn.ReLU(inplace=True))
            else:
                layer = nn.Sequential(
                    nn.Conv2d(input_size, channels, kernel_size=1, bias=False),
                    nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
                    nn.Conv2d(channels, output_size, kernel_size=3, bias=False),
                    nn.BatchNorm2d(output_size), nn.ReLU(inplace=True))
            self.additional_blocks.append(layer)
        self.additional_blocks = nn.ModuleList(self.additional_blocks)

    def bbox_view(self, src, loc, conf):
        ret = []
        for s, l, c in zip(src, loc, conf):
            ret.append((l(s).view(s.size(0), 4, -1), c(s).view(s.size(0), self.label_num, -1)))
        locs, confs = list(zip(*ret))
        return torch.cat(locs, 2).contiguous(), torch.cat(confs, 2).contiguous()

    def forward(self, x):
        x = self.feature_extractor(x)
        detection_feed = [x]
        for layer in self.additional_blocks:
            x = layer(x)
            detection_feed.append(x)
        return self.bbox_view(detection_feed, self.loc, self.conf)


# ------------------------------------------------------------------ torchvision wrappers
class BackboneHead(nn.Module):
    """model.backbone -> list of feature maps -> model.head -> raw tensors (no transform)."""

    def __init__(self, model, out_names):
        super().__init__()
        self.backbone, self.head, self.out_names = model.backbone, model.head, out_names

    def forward(self, x):
        feats = list(self.backbone(x).values())
        out = self.head(feats)
        return tuple(out[n] for n in self.out_names)


def retinanet_frozen_bn():
    """torchvision retinanet_resnet50_fpn as the pretrained model is built (FrozenBatchNorm2d)."""
    from torchvision.models import resnet50
    from torchvision.models.detection.retinanet import RetinaNet
    from torchvision.ops import misc as misc_nn_ops
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7
    try:
        from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
        body = resnet50(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
        backbone = _resnet_fpn_extractor(body, 3, returned_layers=[2, 3, 4],
                                         extra_blocks=LastLevelP6P7(256, 256))
        return RetinaNet(backbone, num_classes=91), "FrozenBatchNorm2d"
    except ImportError:
        from torchvision.models.detection import retinanet_resnet50_fpn
        return retinanet_resnet50_fpn(weights=None, weights_backbone=None), "BatchNorm2d"


def build(name):
    """(module, input size, output names, note)."""
    import torchvision.models.detection as D
    if name == "ssd300_r50":
        return NvSSD300(), 300, ["locs", "confs"], "NVIDIA SSD300 (resnet50 to layer3)"
    if name == "ssd300_vgg16":
        m = D.ssd300_vgg16(weights=None, weights_backbone=None)
        return BackboneHead(m, ["bbox_regression", "cls_logits"]), 300, ["bbox_regression", "cls_logits"], ""
    if name == "ssdlite320_mbv3":
        m = D.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
        return BackboneHead(m, ["bbox_regression", "cls_logits"]), 320, ["bbox_regression", "cls_logits"], ""
    if name.startswith("retinanet_r50_fpn"):
        m, norm = retinanet_frozen_bn()
        size = 512 if name.endswith("_512") else 800
        return BackboneHead(m, ["cls_logits", "bbox_regression"]), size, ["cls_logits", "bbox_regression"], norm
    raise KeyError(name)


MODELS = ["ssd300_r50", "ssd300_vgg16", "ssdlite320_mbv3", "retinanet_r50_fpn", "retinanet_r50_fpn_512"]


def random_init(model, gen):
    """He-normal convs, random BN affine + running stats (nn.BatchNorm2d and FrozenBatchNorm2d)."""
    from torchvision.ops.misc import FrozenBatchNorm2d
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                if mod.bias is not None:
                    mod.bias.copy_(torch.rand(mod.bias.shape, generator=gen) * 0.2 - 0.1)
            elif isinstance(mod, (nn.BatchNorm2d, FrozenBatchNorm2d)):
                c = mod.weight.shape[0]
                u = lambda lo, hi: torch.rand(c, generator=gen) * (hi - lo) + lo  # noqa: E731
                # gamma kept below 1 so the residual sums of deep resnets stay O(1)..O(10)
                mod.weight.copy_(u(0.3, 0.9))
                mod.bias.copy_(u(-0.2, 0.2))
                mod.running_mean.copy_(u(-0.2, 0.2))
                mod.running_var.copy_(u(0.5, 2.0))


def export(model, x, path, out_names):
    kw = dict(opset_version=17, input_names=["images"], output_names=out_names, do_constant_folding=True,
              dynamic_axes={n: {0: "batch"} for n in ["images"] + out_names})
    params = inspect.signature(torch.onnx.export).parameters
    if "dynamo" in params:
        kw["dynamo"] = False
    try:
        torch.onnx.export(model, (x,), path, **kw)
        return "torchscript"
    except Exception as e:  # legacy exporter missing/removed: the dynamo exporter
        if "dynamo" not in params:
            raise
        print("  legacy exporter failed (%s); trying dynamo=True" % str(e).splitlines()[0], flush=True)
        batch = torch.export.Dim("batch", min=1, max=64)
        torch.onnx.export(model, (x,), path, input_names=["images"], output_names=out_names,
                          opset_version=17, dynamo=True, dynamic_shapes=({0: batch},), external_data=False)
        return "dynamo"


def rel_err(ref, out):
    ref, out = ref.astype(np.float64), out.astype(np.float64)
    scale = float(np.abs(ref).max()) or 1.0
    return float(np.abs(ref - out).max()) / scale


def export_one(name, a, batches, ort, onnx):
    """Export one model, write inputs and ORT outputs per batch, print its line; returns failures."""
    failed = 0
    torch.manual_seed(a.seed)
    model, size, out_names, note = build(name)
    if a.init == "random":
        random_init(model, torch.Generator().manual_seed(a.seed + 1))
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    path = os.path.join(a.out, name + ".onnx")
    t0 = time.time()
    with torch.no_grad():
        how = export(model, torch.randn(1, 3, size, size), path, out_names)
    t_export = time.time() - t0
    onnx.checker.check_model(path)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if a.threads:
        so.intra_op_num_threads = a.threads
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    errs = []
    for b in batches:
        x = np.random.default_rng(100 + b).standard_normal((b, 3, size, size)).astype(np.float32)
        with torch.no_grad():
            ref = [t.numpy() for t in model(torch.from_numpy(x))]
        outs = sess.run(None, {sess.get_inputs()[0].name: x})
        names = [o.name for o in sess.get_outputs()]
        tensorfile.write(os.path.join(a.out, "%s.b%d.in.bin" % (name, b)), [(sess.get_inputs()[0].name, x)])
        tensorfile.write(os.path.join(a.out, "%s.b%d.ort.bin" % (name, b)), list(zip(names, outs)))
        for n, r, o in zip(names, ref, outs):
            if r.shape != o.shape:
                errs.append("b%d %s shape %s vs torch %s" % (b, n, list(o.shape), list(r.shape)))
                failed += 1
                continue
            e = rel_err(r, o)
            failed += e > 1e-4
            errs.append("b%d %s %s err %.1e max|ref| %.1f" % (b, n, list(o.shape), e, float(np.abs(r).max())))
    print("%-22s %s %4d px  %6.2fM params  %6.1f MB  export %.1fs (%s)  ORT vs torch: %s" % (
        name, note and "[%s]" % note, size, n_params / 1e6, os.path.getsize(path) / 2**20, t_export, how,
        "; ".join(errs)), flush=True)
    return failed


def main(argv):
    ap = argparse.ArgumentParser(description="export detection networks to ONNX (see module doc)")
    ap.add_argument("--out", default="build/models")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,2")
    ap.add_argument("--init", choices=["random", "default"], default="random")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (0 = default)")
    a = ap.parse_args(argv)
    import onnx
    import onnxruntime as ort
    import torchvision
    os.makedirs(a.out, exist_ok=True)
    print("torch %s, torchvision %s, onnx %s, onnxruntime %s" % (
        torch.__version__, torchvision.__version__, onnx.__version__, ort.__version__), flush=True)
    batches = [int(b) for b in a.batches.split(",") if b]
    failed = 0
    for name in [m for m in a.models.split(",") if m]:
        try:
            failed += export_one(name, a, batches, ort, onnx)
        except Exception as e:  # one model's failure is reported; the others still run
            print("%-22s FAILED: %s: %s" % (name, type(e).__name__, str(e).splitlines()[0] if str(e) else ""),
                  flush=True)
            failed += 1
    print("export_models: %d error(s) above 1e-4" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
