"""nms_common.py — ctypes bindings of libodet_nms.so (bench/nms_build.sh) for the device scripts."""
import ctypes

import numpy as np

c_f, c_i, c_ll, c_p = ctypes.c_float, ctypes.c_int, ctypes.c_longlong, ctypes.c_void_p
PARAMS = [c_f, c_f, c_ll, c_i, c_i, c_p, c_ll, c_ll, c_i]


class Lib:
    def __init__(self, path):
        L = ctypes.CDLL(path)
        L.shim_cpu_nms.argtypes = PARAMS + [c_f, c_f, c_ll, c_ll, c_ll, c_i] + [c_p] * 6
        L.shim_cuda_nms_ws.argtypes = PARAMS + [c_ll, c_ll, c_ll]
        L.shim_cuda_nms_ws.restype = c_ll
        L.shim_cuda_nms.argtypes = PARAMS + [c_f, c_f, c_ll, c_ll, c_ll, c_i] + [c_p] * 3 + [c_ll] + [c_p] * 5
        L.shim_cpu_nms_fused.argtypes = PARAMS + [c_f, c_f, c_ll, c_ll, c_ll] + [c_i] * 4 + [c_p] * 6
        L.shim_cuda_nms_ws_fused.argtypes = PARAMS + [c_ll, c_ll, c_ll, c_i, c_i]
        L.shim_cuda_nms_ws_fused.restype = c_ll
        L.shim_cuda_nms_fused.argtypes = PARAMS + [c_f, c_f, c_ll, c_ll, c_ll] + [c_i] * 4 + [c_p] * 3 + [c_ll] + \
            [c_p] * 5
        box = [c_i, c_i, c_f, c_f, c_p, c_f, c_f, c_f, c_f, c_f, c_ll, c_ll]
        L.shim_cpu_box_decode.argtypes = box + [c_p] * 3
        L.shim_cuda_box_decode.argtypes = box + [c_p] * 4
        L.shim_cpu_scores.argtypes = [c_i, c_i, c_ll, c_ll, c_ll, c_p, c_p]
        L.shim_cuda_scores.argtypes = [c_i, c_i, c_ll, c_ll, c_ll, c_i, c_p, c_p, c_p]
        L.shim_last_error.restype = ctypes.c_char_p
        self.L = L

    @staticmethod
    def _params(p):
        lv = p.get("levels", [])
        arr = (c_ll * max(1, len(lv)))(*lv)
        return [p["thr"], p["iou"], p.get("topk", 0), p.get("mode", 0), len(lv), ctypes.cast(arr, c_p),
                p["K"], p.get("bg", -1), p.get("ge", 0)], arr

    def cpu_nms(self, p, boxes, scores):
        """boxes [B,N,4], scores [B,N,C] numpy f32 or f16 -> count, boxes, scores, classes"""
        B, N, C = scores.shape
        K = p["K"]
        boxes, scores = np.ascontiguousarray(boxes), np.ascontiguousarray(scores)
        f16 = scores.dtype == np.float16
        out = (np.zeros(B, np.int32), np.zeros((B, K, 4), np.float32), np.zeros((B, K), np.float32),
               np.zeros((B, K), np.int32))
        args, keep = self._params(p)
        rc = self.L.shim_cpu_nms(*args, p.get("osx", 1.0), p.get("osy", 1.0), B, N, C, int(f16),
                                 boxes.ctypes.data, scores.ctypes.data, *[o.ctypes.data for o in out])
        if rc:
            raise RuntimeError("cpu nms: %d %s" % (rc, self.L.shim_last_error()))
        return out

    def cuda_nms_prepare(self, p, B, N, C, torch):
        return self.cuda_nms_prepare_fused(p, B, N, C, 0, 0, torch)

    def cuda_nms(self, p, boxes, scores, ws, outs, torch):
        """boxes, scores: contiguous torch cuda tensors (f32 or f16); asynchronous on the current stream"""
        B, N, C = scores.shape
        args, keep = self._params(p)
        rc = self.L.shim_cuda_nms(*args, p.get("osx", 1.0), p.get("osy", 1.0), B, N, C,
                                  int(scores.dtype == torch.float16), boxes.data_ptr(), scores.data_ptr(),
                                  ws.data_ptr(), ws.numel(), *[o.data_ptr() for o in outs],
                                  torch.cuda.current_stream().cuda_stream)
        if rc:
            raise RuntimeError("cuda nms: status %d" % rc)
        return outs

    # BatchedNms with fused class scores: logits [B,N,C] (layout 0) or [B,C,N] (layout 1), f32 or
    # f16 whatever the boxes' dtype; act 0 none, 1 softmax, 2 sigmoid (ClassScores' attributes)
    @staticmethod
    def _nc(layout, x):
        return (x.shape[2], x.shape[1]) if layout else (x.shape[1], x.shape[2])

    def cpu_nms_fused(self, p, boxes, logits, act, layout):
        """numpy boxes [B,N,4], logits (f32 or f16) -> count, boxes, scores, classes"""
        boxes, logits = np.ascontiguousarray(boxes), np.ascontiguousarray(logits)
        B = logits.shape[0]
        N, C = self._nc(layout, logits)
        K = p["K"]
        out = (np.zeros(B, np.int32), np.zeros((B, K, 4), np.float32), np.zeros((B, K), np.float32),
               np.zeros((B, K), np.int32))
        args, keep = self._params(p)
        rc = self.L.shim_cpu_nms_fused(*args, p.get("osx", 1.0), p.get("osy", 1.0), B, N, C, act, layout,
                                       int(boxes.dtype == np.float16), int(logits.dtype == np.float16),
                                       boxes.ctypes.data, logits.ctypes.data, *[o.ctypes.data for o in out])
        if rc:
            raise RuntimeError("cpu nms fused: %d %s" % (rc, self.L.shim_last_error()))
        return out

    def cuda_nms_prepare_fused(self, p, B, N, C, act, layout, torch):
        args, keep = self._params(p)
        ws = self.L.shim_cuda_nms_ws_fused(*args, B, N, C, act, layout)
        if ws < 0:
            raise RuntimeError("cuda nms workspace size failed (activation %d, layout %d)" % (act, layout))
        K = p["K"]
        dev = "cuda"
        outs = (torch.zeros(B, dtype=torch.int32, device=dev), torch.zeros(B, K, 4, device=dev),
                torch.zeros(B, K, device=dev), torch.zeros(B, K, dtype=torch.int32, device=dev))
        return torch.empty(max(ws, 1), dtype=torch.uint8, device=dev), outs

    def cuda_nms_fused(self, p, boxes, logits, act, layout, ws, outs, torch):
        """boxes, logits: contiguous torch cuda tensors (f32 or f16 each); asynchronous"""
        B = logits.shape[0]
        N, C = self._nc(layout, logits)
        args, keep = self._params(p)
        rc = self.L.shim_cuda_nms_fused(*args, p.get("osx", 1.0), p.get("osy", 1.0), B, N, C, act, layout,
                                        int(boxes.dtype == torch.float16), int(logits.dtype == torch.float16),
                                        boxes.data_ptr(), logits.data_ptr(), ws.data_ptr(), ws.numel(),
                                        *[o.data_ptr() for o in outs], torch.cuda.current_stream().cuda_stream)
        if rc:
            raise RuntimeError("cuda nms fused: status %d" % rc)
        return outs

    @staticmethod
    def _box(d):
        w = (c_f * 4)(*d.get("weights", (1, 1, 1, 1)))
        return [d["coder"], d["layout"], d.get("sxy", 0.1), d.get("swh", 0.2), ctypes.cast(w, c_p),
                d.get("xclip", float("inf")), d.get("osx", 1.0), d.get("osy", 1.0), d.get("cw", 0.0),
                d.get("ch", 0.0)], w

    def cpu_box_decode(self, d, deltas, anchors):
        deltas, anchors = np.ascontiguousarray(deltas, np.float32), np.ascontiguousarray(anchors, np.float32)
        B, N = deltas.shape[0], anchors.shape[0]
        out = np.zeros((B, N, 4), np.float32)
        a, keep = self._box(d)
        rc = self.L.shim_cpu_box_decode(*a, B, N, deltas.ctypes.data, anchors.ctypes.data, out.ctypes.data)
        if rc:
            raise RuntimeError("cpu decode: %s" % self.L.shim_last_error())
        return out

    def cuda_box_decode(self, d, deltas, anchors, out, torch):
        a, keep = self._box(d)
        rc = self.L.shim_cuda_box_decode(*a, deltas.shape[0], anchors.shape[0], deltas.data_ptr(),
                                         anchors.data_ptr(), out.data_ptr(),
                                         torch.cuda.current_stream().cuda_stream)
        if rc:
            raise RuntimeError("cuda decode: %d" % rc)
        return out

    def cpu_scores(self, layout, act, x):
        x = np.ascontiguousarray(x, np.float32)
        B = x.shape[0]
        N, C = (x.shape[2], x.shape[1]) if layout else (x.shape[1], x.shape[2])
        out = np.zeros((B, N, C), np.float32)
        if self.L.shim_cpu_scores(layout, act, B, N, C, x.ctypes.data, out.ctypes.data):
            raise RuntimeError("cpu scores: %s" % self.L.shim_last_error())
        return out

    def cuda_scores(self, layout, act, x, out, torch):
        B = x.shape[0]
        N, C = (x.shape[2], x.shape[1]) if layout else (x.shape[1], x.shape[2])
        rc = self.L.shim_cuda_scores(layout, act, B, N, C, int(x.dtype == torch.float16), x.data_ptr(), out.data_ptr(),
                                     torch.cuda.current_stream().cuda_stream)
        if rc:
            raise RuntimeError("cuda scores: %d" % rc)
        return out
