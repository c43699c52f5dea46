#!/usr/bin/python3
"""onnx_nms_test.py — models with their own ONNX NonMaxSuppression run with odet's onnx-nms head.

    onnx_nms_test.py ODET_CLI REPO_ROOT

Part 1: models generated here (a 1x1-conv "network" -> boxes [B,N,4] and scores [B,C,N], then
NonMaxSuppression and a torchvision-style tail: Gather/GatherND of the selected rows, Squeeze,
Reshape, Cast, TopK). ONNX Runtime runs the whole model (tests/ref/ort_run.js); odet runs it with
the onnx-nms head; per image, the detections must be the same set of (box, score, class) exactly.
Input pixels take 3 values only, so many boxes and scores are identical (ties).
Part 2: ONNX's node tests test_nonmaxsuppression_* (libonnx-testdata): odet's kept boxes must be
the boxes the expected selected_indices select.
Prints "N passed, M failed"; exit 1 on failure, 77 (skip) when onnx or onnxruntime is missing.
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    print("skip: onnx not available")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gen"))
import tensorfile  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def make_model(B, C, S, center, max_out, iou, score, seed, pre_topk=0):
    """image [B,3,S,S] -> 1x1 conv -> boxes [B,S*S,4], scores [B,C,S*S] -> NMS -> tail.
    pre_topk > 0 (B = 1): the EfficientNMS-like form, NMS on the pre_topk anchors of highest
    class-maximum score only (ReduceMax, TopK, Gather before NMS)."""
    rng = np.random.default_rng(seed)
    N = S * S
    # dyadic weights (and inputs, see part1): every product and sum of the conv is exact in
    # float32, so ONNX Runtime and odet compute the network bit for bit whatever their order
    w = (np.round(rng.normal(0, 1, (4 + C, 3, 1, 1)) * 8) / 8).astype(np.float32)
    bias = (np.round(rng.normal(0, 0.5, (4 + C,)) * 8) / 8).astype(np.float32)
    gy, gx = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
    if center:
        grid = np.stack([gx, gy, np.full_like(gx, 3), np.full_like(gy, 3)], -1)  # xc yc w h
        scale = np.array([0.7, 0.7, 1.0, 1.0], np.float32)
    else:
        grid = np.stack([gy, gx, gy + 2, gx + 2], -1)  # y1 x1 y2 x2 (+ noise may flip corners)
        scale = np.array([1.5, 1.5, 1.5, 1.5], np.float32)
    grid = grid.reshape(1, N, 4).astype(np.float32)
    init = [
        numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b"),
        numpy_helper.from_array(np.array([B, 4 + C, N], np.int64), "shape3"),
        numpy_helper.from_array(grid, "grid"), numpy_helper.from_array(scale, "bscale"),
        numpy_helper.from_array(np.array([4, C], np.int64), "split"),
        numpy_helper.from_array(np.array([-1, 4], np.int64), "flat4"),
        numpy_helper.from_array(np.array([pre_topk or N], np.int64), "n_anchors"),
        numpy_helper.from_array(np.array([pre_topk or 1], np.int64), "pre_k"),
        numpy_helper.from_array(np.array([0], np.int64), "zero1"),
        numpy_helper.from_array(np.array([1], np.int64), "one1"),
        numpy_helper.from_array(np.array([2], np.int64), "two1"),
        numpy_helper.from_array(np.array([3], np.int64), "three1"),
    ]
    nms_in = ["boxes", "scores"]
    consts = []
    if max_out is not None:
        init.append(numpy_helper.from_array(np.array([max_out], np.int64), "max_out"))
        nms_in.append("max_out")
    if iou is not None or score is not None:
        if iou is not None:
            # given by a Constant node, as exporters do
            consts.append(helper.make_node("Constant", [], ["iou_thr"], name="c_iou",
                                           value=numpy_helper.from_array(np.array([iou], np.float32))))
        nms_in.append("iou_thr" if iou is not None else "")
    if score is not None:
        init.append(numpy_helper.from_array(np.array([score], np.float32), "score_thr"))
        nms_in.append("score_thr")
    nodes = consts + [
        helper.make_node("Conv", ["image", "w", "b"], ["feat"], name="conv"),
        helper.make_node("Reshape", ["feat", "shape3"], ["flat"], name="flatten"),
        helper.make_node("Split", ["flat", "split"], ["raw_boxes", "raw_scores"], axis=1, name="split"),
        helper.make_node("Transpose", ["raw_boxes"], ["tb"], perm=[0, 2, 1], name="tb"),
        helper.make_node("Mul", ["tb", "bscale"], ["sb"], name="sb"),
        helper.make_node("Add", ["sb", "grid"], ["boxes_all" if pre_topk else "boxes"], name="boxes"),
        helper.make_node("Relu", ["raw_scores"], ["scores_all" if pre_topk else "scores"], name="scores"),
    ] + ([] if not pre_topk else [
        helper.make_node("ReduceMax", ["scores_all"], ["best"], axes=[1], keepdims=0, name="best"),
        helper.make_node("TopK", ["best", "pre_k"], ["best_v", "best_i"], axis=1, name="pre_topk"),
        helper.make_node("Squeeze", ["best_i", "zero1"], ["best_i1"], name="pre_sq"),
        helper.make_node("Gather", ["boxes_all", "best_i1"], ["boxes"], axis=1, name="pre_boxes"),
        helper.make_node("Gather", ["scores_all", "best_i1"], ["scores"], axis=2, name="pre_scores"),
    ]) + [        helper.make_node("NonMaxSuppression", nms_in, ["selected"], center_point_box=center, name="nms"),
        # tail: batch, class, box index columns; flat box index b*N+i; Gather boxes, GatherND scores
        helper.make_node("Gather", ["selected", "zero1"], ["sel_b2"], axis=1, name="col_b"),
        helper.make_node("Gather", ["selected", "one1"], ["sel_c2"], axis=1, name="col_c"),
        helper.make_node("Gather", ["selected", "two1"], ["sel_i2"], axis=1, name="col_i"),
        helper.make_node("Squeeze", ["sel_b2", "one1"], ["sel_b"], name="sq_b"),
        helper.make_node("Squeeze", ["sel_c2", "one1"], ["sel_c"], name="sq_c"),
        helper.make_node("Squeeze", ["sel_i2", "one1"], ["sel_i"], name="sq_i"),
        helper.make_node("Mul", ["sel_b", "n_anchors"], ["bn"], name="bn"),
        helper.make_node("Add", ["bn", "sel_i"], ["flat_i"], name="flat_i"),
        helper.make_node("Reshape", ["boxes", "flat4"], ["boxes_flat"], name="boxes_flat"),
        helper.make_node("Gather", ["boxes_flat", "flat_i"], ["sel_boxes"], axis=0, name="g_boxes"),
        helper.make_node("GatherND", ["scores", "selected"], ["sel_scores"], name="g_scores"),
        # sort by score (TopK with k = number selected), as exported postprocesses do
        helper.make_node("Shape", ["sel_scores"], ["n_sel"], name="n_sel"),
        helper.make_node("TopK", ["sel_scores", "n_sel"], ["det_scores_o", "order"], name="topk"),
        helper.make_node("Gather", ["sel_boxes", "order"], ["det_boxes_o"], axis=0, name="o_boxes"),
        helper.make_node("Gather", ["sel_c", "order"], ["det_labels_l"], axis=0, name="o_labels"),
        helper.make_node("Cast", ["det_labels_l"], ["det_labels_o"], to=TensorProto.INT32, name="cast_l"),
        helper.make_node("Gather", ["sel_b", "order"], ["det_batch_o"], axis=0, name="o_batch"),
    ]
    outs = [helper.make_tensor_value_info("det_batch_o", TensorProto.INT64, ["M"]),
            helper.make_tensor_value_info("det_boxes_o", TensorProto.FLOAT, ["M", 4]),
            helper.make_tensor_value_info("det_scores_o", TensorProto.FLOAT, ["M"]),
            helper.make_tensor_value_info("det_labels_o", TensorProto.INT32, ["M"])]
    g = helper.make_graph(nodes, "nms_model",
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, [B, 3, S, S])], outs, init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def to_xyxy(b, center):
    """ONNX box rows as odet reports them: x1 y1 x2 y2 (float32 arithmetic as in odet)."""
    b = b.astype(np.float32)
    if center:
        hw, hh = b[:, 2] / np.float32(2), b[:, 3] / np.float32(2)
        return np.stack([b[:, 0] - hw, b[:, 1] - hh, b[:, 0] + hw, b[:, 1] + hh], 1)
    return np.stack([np.minimum(b[:, 1], b[:, 3]), np.minimum(b[:, 0], b[:, 2]),
                     np.maximum(b[:, 1], b[:, 3]), np.maximum(b[:, 0], b[:, 2])], 1)


def rows(boxes, scores, classes):
    return sorted((tuple(np.asarray(bx, np.float32).view(np.uint32).tolist()),
                   int(np.float32(s).view(np.uint32)), int(c)) for bx, s, c in zip(boxes, scores, classes))


def run_odet(cli, tmp, model, inputs, head="onnx-nms"):
    ip, op = os.path.join(tmp, "odet_in.bin"), os.path.join(tmp, "odet_out.bin")
    tensorfile.write(ip, inputs)
    r = subprocess.run([cli, "run", model, "--input", ip, "--output", op, "--threads", "2", "--head", head],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return dict(tensorfile.read(op)), ""


def odet_sets(out, B):
    n, bx, sc, cl = out["det_count"], out["det_boxes"], out["det_scores"], out["det_classes"]
    return [rows(bx[b, :n[b]], sc[b, :n[b]], cl[b, :n[b]]) for b in range(B)], n


def part1(cli, repo, tmp):
    node = "node"
    ort = os.path.join(repo, "tests", "ref", "ort_run.js")
    cases = [
        # name, B, C, S, center, max_out, iou, score
        ("corners", 2, 3, 8, 0, 100, 0.5, 0.3),
        ("corners_truncated", 2, 3, 8, 0, 2, 0.5, 0.3),
        ("center", 2, 4, 6, 1, 50, 0.4, 0.5),
        ("center_truncated", 1, 2, 8, 1, 3, 0.3, 0.2),
        ("no_score_threshold", 1, 2, 6, 0, 1000, 0.6, None),
        ("iou_zero", 2, 3, 6, 0, 10, 0.0, 0.4),
        ("iou_one", 1, 3, 6, 0, 10, 1.0, 0.4),
        ("score_equals_threshold", 2, 3, 6, 0, 100, 0.5, 0.0),  # Relu zeros == threshold: kept only if >=
        ("pre_topk", 1, 3, 8, 0, 4, 0.3, 0.1),        # TopK/Gather before NMS, continuous input
        ("capped", 2, 3, 8, 0, 100, 0.5, 0.3),        # --head onnx-nms:7
    ]
    total = 0
    seed0 = int(os.environ.get("ODET_NMS_SEED", "0"))  # other seeds: a longer random sweep
    for k, (name, B, C, S, center, max_out, iou, score) in enumerate(cases):
        k += seed0
        m = make_model(B, C, S, center, max_out, iou, score, seed=100 + k, pre_topk=20 if name == "pre_topk" else 0)
        path = os.path.join(tmp, name + ".onnx")
        onnx.save(m, path)
        rng = np.random.default_rng(k)
        if name in ("pre_topk", "capped"):
            img = (rng.integers(0, 64, (B, 3, S, S)) / 64).astype(np.float32)  # few ties
        else:
            img = rng.choice(np.array([0.0, 0.5, 1.0], np.float32), size=(B, 3, S, S))
        ip, op = os.path.join(tmp, "ort_in.bin"), os.path.join(tmp, "ort_out.bin")
        tensorfile.write(ip, [("image", img)])
        r = subprocess.run([node, ort, path, ip, op], capture_output=True, text=True)
        if r.returncode != 0:
            check(False, "%s: ort_run.js failed: %s" % (name, r.stderr.strip()[-400:]))
            continue
        ref = dict(tensorfile.read(op))
        cap = 7 if name == "capped" else 0
        got, err = run_odet(cli, tmp, path, [("image", img)], "onnx-nms:%d" % cap if cap else "onnx-nms")
        if got is None:
            check(False, "%s: odet run failed: %s" % (name, err))
            continue
        sets, n = odet_sets(got, B)
        for b in range(B):
            sel = ref["det_batch_o"] == b
            want = rows(to_xyxy(ref["det_boxes_o"][sel], center), ref["det_scores_o"][sel], ref["det_labels_o"][sel])
            if cap:
                # the cap's best by score; the case must not tie at the cut
                sc = np.sort(ref["det_scores_o"][sel])[::-1]
                check(len(sc) > cap and sc[cap - 1] > sc[cap], "%s image %d: no tie at the cap" % (name, b))
                keep = ref["det_scores_o"][sel] >= sc[cap - 1]
                want = rows(to_xyxy(ref["det_boxes_o"][sel][keep], center), ref["det_scores_o"][sel][keep],
                            ref["det_labels_o"][sel][keep])
            total += len(want)
            check(sets[b] == want, "%s image %d: odet %d detections, ONNX Runtime %d; first differences %s / %s" %
                  (name, b, len(sets[b]), len(want), [x for x in sets[b] if x not in want][:2],
                   [x for x in want if x not in sets[b]][:2]))
            if max_out is not None and "truncated" in name:
                cls = ref["det_labels_o"][sel]
                check(len(cls) and max(np.bincount(cls)) == max_out,
                      "%s image %d: the case should truncate at %d per class" % (name, b, max_out))
        # the scores really tie: fewer distinct scores than selected boxes
        if name == "corners":
            check(len(np.unique(ref["det_scores_o"])) < len(ref["det_scores_o"]), "corners: the case has tied scores")
    print("part 1: %d ONNX Runtime detections compared over %d models" % (total, len(cases)))
    # refusal: a score threshold computed from the input cannot be replaced at build time
    m = make_model(1, 2, 4, 0, 10, 0.5, 0.3, seed=7)
    g = m.graph
    g.initializer.remove([t for t in g.initializer if t.name == "score_thr"][0])
    g.node.insert(0, helper.make_node("ReduceMax", ["image"], ["score_thr"], keepdims=0, name="dyn_thr"))
    path = os.path.join(tmp, "dynamic_threshold.onnx")
    onnx.save(m, path)
    got, err = run_odet(cli, tmp, path, [("image", np.zeros((1, 3, 4, 4), np.float32))])
    check(got is None and "score_threshold" in err and "constant" in err,
          "dynamic score_threshold refused clearly (got: %r)" % err)
    # refusal: two NonMaxSuppression nodes
    m = make_model(1, 2, 4, 0, 10, 0.5, 0.3, seed=8)
    m.graph.node.append(helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["selected2"], name="nms2"))
    m.graph.output.append(helper.make_tensor_value_info("selected2", TensorProto.INT64, ["K", 3]))
    path = os.path.join(tmp, "two_nms.onnx")
    onnx.save(m, path)
    got, err = run_odet(cli, tmp, path, [("image", np.zeros((1, 3, 4, 4), np.float32))])
    check(got is None and "more than once" in err, "two NonMaxSuppression refused clearly (got: %r)" % err)
    # refusal: NonMaxSuppression without scores
    m = make_model(1, 2, 4, 0, 10, 0.5, 0.3, seed=10)
    nms = [n for n in m.graph.node if n.op_type == "NonMaxSuppression"][0]
    del nms.input[1:]
    path = os.path.join(tmp, "nms_one_input.onnx")
    onnx.save(m, path)
    got, err = run_odet(cli, tmp, path, [("image", np.zeros((1, 3, 4, 4), np.float32))])
    check(got is None and "boxes and scores" in err, "NonMaxSuppression without scores refused (got: %r)" % err)
    # max_output_boxes_per_class 0 selects nothing, as in ONNX
    m = make_model(1, 2, 4, 0, 0, 0.5, 0.3, seed=9)
    path = os.path.join(tmp, "max_zero.onnx")
    onnx.save(m, path)
    got, err = run_odet(cli, tmp, path, [("image", np.ones((1, 3, 4, 4), np.float32))])
    check(got is not None and int(got["det_count"][0]) == 0, "max_output_boxes_per_class 0 selects nothing (%r)" % err)


def part2(cli, tmp):
    dirs = sorted(glob.glob("/usr/share/libonnx-testdata/data/node/test_nonmaxsuppression_*"))
    if not dirs:
        print("part 2: skipped (no libonnx-testdata)")
        return
    n_boxes = 0
    for d in dirs:
        name = os.path.basename(d)
        m = onnx.load(os.path.join(d, "model.onnx"))
        nms = [n for n in m.graph.node if n.op_type == "NonMaxSuppression"][0]
        center = next((a.i for a in nms.attribute if a.name == "center_point_box"), 0)
        for ds in sorted(glob.glob(os.path.join(d, "test_data_set_*"))):
            ins = []
            for k in range(len(m.graph.input)):
                t = onnx.TensorProto()
                with open(os.path.join(ds, "input_%d.pb" % k), "rb") as f:
                    t.ParseFromString(f.read())
                ins.append((m.graph.input[k].name, numpy_helper.to_array(t)))
            t = onnx.TensorProto()
            with open(os.path.join(ds, "output_0.pb"), "rb") as f:
                t.ParseFromString(f.read())
            sel = numpy_helper.to_array(t)
            # the parameters are graph inputs there: make them initializers (odet needs constants)
            mm = onnx.ModelProto()
            mm.CopyFrom(m)
            keep = []
            for (nm, arr), vi in zip(ins, list(mm.graph.input)):
                if nm in ("boxes", "scores"):
                    keep.append((nm, arr))
                    continue
                mm.graph.input.remove(vi)
                mm.graph.initializer.append(numpy_helper.from_array(arr, nm))
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(mm, path)
            got, err = run_odet(cli, tmp, path, keep)
            if got is None:
                check(False, "%s: odet run failed: %s" % (name, err))
                continue
            boxes, scores = dict(keep)["boxes"], dict(keep)["scores"]
            B = boxes.shape[0]
            sets, _ = odet_sets(got, B)
            for b in range(B):
                s = sel[sel[:, 0] == b]
                want = rows(to_xyxy(boxes[b, s[:, 2]], center), scores[b, s[:, 1], s[:, 2]], s[:, 1])
                n_boxes += len(want)
                check(sets[b] == want, "%s image %d: odet %s, expected %s" % (name, b, sets[b], want))
    print("part 2: %d ONNX node tests, %d selected boxes compared" % (len(dirs), n_boxes))


def main():
    if len(sys.argv) != 3:
        print("usage: onnx_nms_test.py ODET_CLI REPO_ROOT")
        return 2
    cli, repo = sys.argv[1], sys.argv[2]
    ort_mod = os.environ.get("ODET_NODE_MODULES", os.path.join(repo, ".cache", "node", "node_modules"))
    with tempfile.TemporaryDirectory() as tmp:
        if os.path.isdir(os.path.join(ort_mod, "onnxruntime-node")):
            part1(cli, repo, tmp)
        else:
            print("part 1: skipped (onnxruntime-node not installed: scripts/deps.sh)")
        part2(cli, tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
