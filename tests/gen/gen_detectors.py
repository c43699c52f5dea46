#!/usr/bin/python3
"""gen_detectors.py — seeded ONNX detection networks in torch.onnx.export's form (opset 17).

    gen_detectors.py [MODEL ...] [--out DIR] [--size S] [--seed N] [--width-div D]
                     [--batch-symbolic | --batch B] [--external]
                     [--numpy-ref IN.bin OUT.bin]

MODEL (default: all of ssd300_r50 ssd300_vgg16 retinanet_r50_fpn ssd300_r50_ext):
  ssd300_r50        NVIDIA DeepLearningExamples SSD300: torchvision resnet50 conv1..layer3
                    (layer3 block 0 with stride 1 in conv2 and downsample), BatchNorm nodes,
                    6 extra blocks, heads with l(s).view(s.size(0), 4, -1) / c(...) 81 classes,
                    cat on dim 2 -> locs [B,4,8732], confs [B,81,8732] at 300x300.
  ssd300_vgg16      torchvision ssd300_vgg16: VGG16 (pool3 ceil_mode), L2Norm*scale on conv4_3,
                    pool5 3x3 s1 p1, fc6 dilation 6, fc7, 4 extras; heads view/permute/reshape,
                    cat on dim 1 -> bbox_regression [B,8732,4], cls_logits [B,8732,91].
  retinanet_r50_fpn torchvision retinanet_resnet50_fpn network (no transform/postprocess):
                    resnet50 with FrozenBatchNorm2d (Conv -> Mul -> Add), FPN with nearest
                    Resize to Shape-computed sizes, P6/P7 from P5, shared 4-conv heads, A=9,
                    91 classes -> cls_logits [B,N,91], bbox_regression [B,N,4]; default 256x256.
  ssd300_r50_ext    ssd300_r50 with channel widths / 4 saved with external data
                    (ssd300_r50_ext.onnx + ssd300_r50_ext.onnx.data).
Weights: He-scaled normal, BatchNorm with random running statistics (seed --seed).
--width-div D divides every channel count except classes and anchors (same structure, cheaper).
--numpy-ref IN OUT: also compute the (single) model in float64 numpy on the inputs of IN.bin
and write OUT.bin — an independent check of the emitted graph.
Prints one line per model: name, file, parameter count, input and output shapes.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netbuild  # noqa: E402
import tensorfile  # noqa: E402

# prediction convs get smaller weights (torchvision inits them with std 0.01) so outputs stay O(1)
HEAD_GAIN = 0.25
DEFAULT_SIZE = {"ssd300_r50": 300, "ssd300_vgg16": 300, "retinanet_r50_fpn": 256, "ssd300_r50_ext": 300}


# ------------------------------------------------------------------ resnet50 pieces
def bottleneck(b, x, planes, stride, downsample, name, norm):
    out = b.relu(norm(b.conv(x, planes, 1, bias=False, name=name + ".conv1"), name + ".bn1"))
    out = b.relu(norm(b.conv(out, planes, 3, s=stride, p=1, bias=False, name=name + ".conv2"), name + ".bn2"))
    # bn3 gamma scaled down so the residual sum stays O(1) over 16 blocks
    out = norm(b.conv(out, planes * 4, 1, bias=False, name=name + ".conv3"), name + ".bn3", 0.35)
    idt = x
    if downsample:
        idt = norm(b.conv(x, planes * 4, 1, s=stride, bias=False, name=name + ".downsample.0"),
                   name + ".downsample.1")
    return b.relu(b.add(out, idt))


def resnet_layer(b, x, planes, blocks, stride, name, norm, first_stride_conv=None):
    """torchvision resnet layer; first block always has a downsample (channels change)."""
    x = bottleneck(b, x, planes, stride if first_stride_conv is None else first_stride_conv, True,
                   name + ".0", norm)
    for i in range(1, blocks):
        x = bottleneck(b, x, planes, 1, False, "%s.%d" % (name, i), norm)
    return x


def resnet_stem(b, x, wd, norm, prefix):
    x = b.relu(norm(b.conv(x, 64 // wd, 7, s=2, p=3, bias=False, name=prefix + "conv1"), prefix + "bn1"))
    return b.maxpool(x, 3, 2, 1)


# ------------------------------------------------------------------ models
def ssd300_r50(b, size, wd):
    x = b.input("input", 3, size, size)
    fe = "feature_extractor.feature_extractor."
    x = resnet_stem(b, x, wd, b.bn, fe)
    x = resnet_layer(b, x, 64 // wd, 3, 1, fe + "4", b.bn)
    x = resnet_layer(b, x, 128 // wd, 4, 2, fe + "5", b.bn)
    x = resnet_layer(b, x, 256 // wd, 6, 2, fe + "6", b.bn, first_stride_conv=1)
    out_ch = [c // wd for c in (1024, 512, 512, 256, 256, 256)]
    mids = [c // wd for c in (256, 256, 128, 128, 128)]
    feats = [x]
    for i, (cin, cout, mid) in enumerate(zip(out_ch[:-1], out_ch[1:], mids)):
        n = "additional_blocks.%d" % i
        x = b.relu(b.bn(b.conv(x, mid, 1, bias=False, name=n + ".0"), n + ".1"))
        if i < 3:
            x = b.relu(b.bn(b.conv(x, cout, 3, s=2, p=1, bias=False, name=n + ".3"), n + ".4"))
        else:
            x = b.relu(b.bn(b.conv(x, cout, 3, bias=False, name=n + ".3"), n + ".4"))
        feats.append(x)
    num = [4, 6, 6, 6, 4, 4]
    locs, confs = [], []
    for i, (s, nd) in enumerate(zip(feats, num)):
        locs.append(b.view_nk(s, b.conv(s, nd * 4, 3, p=1, name="loc.%d" % i, gain=HEAD_GAIN), 4))
        confs.append(b.view_nk(s, b.conv(s, nd * 81, 3, p=1, name="conf.%d" % i, gain=HEAD_GAIN), 81))
    b.output("locs", b.concat(locs, 2))
    b.output("confs", b.concat(confs, 2))


def ssd300_vgg16(b, size, wd):
    x = b.input("images", 3, size, size)
    conv = lambda x, c, name, **kw: b.relu(b.conv(x, c // wd, 3, p=1, name=name, **kw))  # noqa: E731
    i = 0
    for stage, (n, c) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512))):
        for _ in range(n):
            x = conv(x, c, "backbone.features.%d" % i)
            i += 2
        if stage < 3:
            x = b.maxpool(x, 2, 2, 0, ceil=(stage == 2))  # pool3: ceil_mode=True
            i += 1
    feats = [b.l2norm_scale(x, "backbone")]
    x = b.maxpool(x, 2, 2, 0)  # pool4
    for j in range(3):
        x = conv(x, 512, "backbone.extra.0.%d" % (1 + 2 * j))
    x = b.maxpool(x, 3, 1, 1)  # pool5
    x = b.relu(b.conv(x, 1024 // wd, 3, p=6, d=6, name="backbone.extra.0.7.1"))  # fc6
    x = b.relu(b.conv(x, 1024 // wd, 1, name="backbone.extra.0.7.3"))  # fc7
    feats.append(x)
    for j, (mid, cout, s, p) in enumerate(((256, 512, 2, 1), (128, 256, 2, 1), (128, 256, 1, 0),
                                           (128, 256, 1, 0))):
        n = "backbone.extra.%d" % (j + 1)
        x = b.relu(b.conv(x, mid // wd, 1, name=n + ".0"))
        x = b.relu(b.conv(x, cout // wd, 3, s=s, p=p, name=n + ".2"))
        feats.append(x)
    anchors = [4, 6, 6, 6, 4, 4]
    reg = [b.head_permute(b.conv(f, a * 4, 3, p=1, name="head.regression_head.module_list.%d" % k,
                                       gain=HEAD_GAIN), 4)
           for k, (f, a) in enumerate(zip(feats, anchors))]
    cls = [b.head_permute(b.conv(f, a * 91, 3, p=1, name="head.classification_head.module_list.%d" % k,
                                       gain=HEAD_GAIN), 91)
           for k, (f, a) in enumerate(zip(feats, anchors))]
    b.output("bbox_regression", b.concat(reg, 1))
    b.output("cls_logits", b.concat(cls, 1))


def retinanet_r50_fpn(b, size, wd):
    x = b.input("images", 3, size, size)
    fb = b.frozen_bn
    pre = "backbone.body."
    x = resnet_stem(b, x, wd, fb, pre)
    c2 = resnet_layer(b, x, 64 // wd, 3, 1, pre + "layer1", fb)
    c3 = resnet_layer(b, c2, 128 // wd, 4, 2, pre + "layer2", fb)
    c4 = resnet_layer(b, c3, 256 // wd, 6, 2, pre + "layer3", fb)
    c5 = resnet_layer(b, c4, 512 // wd, 3, 2, pre + "layer4", fb)
    f = 256 // wd
    fpn = "backbone.fpn."
    last = b.conv(c5, f, 1, name=fpn + "inner_blocks.2.0")
    results = [b.conv(last, f, 3, p=1, name=fpn + "layer_blocks.2.0")]
    for idx, c in ((1, c4), (0, c3)):
        lateral = b.conv(c, f, 1, name=fpn + "inner_blocks.%d.0" % idx)
        last = b.add(lateral, b.upsample_like(last, lateral))
        results.insert(0, b.conv(last, f, 3, p=1, name=fpn + "layer_blocks.%d.0" % idx))
    p6 = b.conv(results[-1], f, 3, s=2, p=1, name=fpn + "extra_blocks.p6")  # use_P5: in == out
    p7 = b.conv(b.relu(p6), f, 3, s=2, p=1, name=fpn + "extra_blocks.p7")
    feats = results + [p6, p7]
    A = 9

    def head(kind, k, bias_value):
        convs = [b.make_shared_conv(f, f, 3, "head.%s_head.conv.%d.0" % (kind, i)) for i in range(4)]
        last_name = "cls_logits" if kind == "classification" else "bbox_reg"
        final = b.make_shared_conv(f, A * k, 3, "head.%s_head.%s" % (kind, last_name), bias_value,
                                   HEAD_GAIN)
        outs = []
        for lv in feats:
            y = lv
            for c in convs:
                y = b.relu(b.conv_shared(y, c, 3, 1, kind))
            outs.append(b.head_permute(b.conv_shared(y, final, 3, 1, kind), k))
        return b.concat(outs, 1)

    b.output("cls_logits", head("classification", 91, -float(np.log((1 - 0.01) / 0.01))))
    b.output("bbox_regression", head("regression", 4, None))


MODELS = {"ssd300_r50": ssd300_r50, "ssd300_vgg16": ssd300_vgg16, "retinanet_r50_fpn": retinanet_r50_fpn}
# variants: name -> (base model, width divisor multiplier, external data)
VARIANTS = {"ssd300_r50_ext": ("ssd300_r50", 4, True)}


def build(name, size, seed, wd, batch):
    base, wmul, external = VARIANTS.get(name, (name, 1, False))
    b = netbuild.OnnxBuilder(seed, name, batch)
    MODELS[base](b, size, wd * wmul)
    return b, external


def numpy_forward(name, size, seed, wd, feeds):
    base, wmul, _ = VARIANTS.get(name, (name, 1, False))
    b = netbuild.NumpyBuilder(seed, feeds)
    MODELS[base](b, size, wd * wmul)
    return b.results


def main(argv):
    ap = argparse.ArgumentParser(description="seeded ONNX detection networks (see module doc)")
    ap.add_argument("models", nargs="*", help="default: all")
    ap.add_argument("--out", default=".")
    ap.add_argument("--size", type=int, default=0, help="input H=W; 0 = the model's default")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--width-div", type=int, default=1)
    ap.add_argument("--batch-symbolic", action="store_true", help='batch dim is the symbol "batch"')
    ap.add_argument("--batch", type=int, default=1, help="fixed batch when not symbolic")
    ap.add_argument("--external", action="store_true", help="all weights in <model>.onnx.data")
    ap.add_argument("--numpy-ref", nargs=2, metavar=("IN", "OUT"))
    a = ap.parse_args(argv)
    names = a.models or list(DEFAULT_SIZE)
    for n in names:
        if n not in DEFAULT_SIZE:
            ap.error("unknown model %s (have %s)" % (n, ", ".join(DEFAULT_SIZE)))
    if a.width_div < 1 or 64 % a.width_div:
        ap.error("--width-div must divide 64")
    os.makedirs(a.out, exist_ok=True)
    for n in names:
        size = a.size or DEFAULT_SIZE[n]
        b, external = build(n, size, a.seed, a.width_div, None if a.batch_symbolic else a.batch)
        m = b.model()
        path = os.path.join(a.out, n + ".onnx")
        netbuild.save(m, path, external or a.external)
        dims = lambda vi: [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]  # noqa: E731
        outs = ", ".join("%s %s" % (o.name, dims(o)) for o in m.graph.output)
        print("%-18s %s  params %d  nodes %d  input %s  -> %s" % (
            n, path, netbuild.count_params(m), len(m.graph.node),
            dims(m.graph.input[0]), outs))
    if a.numpy_ref:
        if len(names) != 1:
            ap.error("--numpy-ref needs exactly one model")
        feeds = dict(tensorfile.read(a.numpy_ref[0]))
        res = numpy_forward(names[0], a.size or DEFAULT_SIZE[names[0]], a.seed, a.width_div, feeds)
        tensorfile.write(a.numpy_ref[1], [(k, v.astype(np.float32)) for k, v in res.items()])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
