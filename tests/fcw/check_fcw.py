"""check_fcw.py OUT_DIR FRAMES — odet-fcw's outputs against the per-frame math they claim.

Reads OUT_DIR/events.jsonl and OUT_DIR/summary.json (which holds the homography, zone and
parameters the run used) and recomputes, for every object line: the ground position of the
box's bottom centre (H), the horizon rule, the per-track line fit of distance over the last
`window` seconds (closing speed, smoothed distance, the gap rule), the TTC, the zone test with
its margin, the levels' raising rules; then the summary's counts. Prints what it checked;
exit 1 on the first inconsistency.
"""
import json
import math
import sys

out, n_frames = sys.argv[1], int(sys.argv[2])
S = json.load(open(out + "/summary.json"))
H, P = S["H"], S["params"]
W = P["window"]
fails = []


def bad(msg):
    fails.append(msg)
    if len(fails) < 20:
        print("FAIL:", msg)


def close(a, b, tol=1e-5):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


def ground(u, v):
    w = H[6] * u + H[7] * v + H[8]
    if not w > 1e-12 * (abs(H[6] * u) + abs(H[7] * v) + abs(H[8])):
        return None
    x, y = (H[0] * u + H[1] * v + H[2]) / w, (H[3] * u + H[4] * v + H[5]) / w
    if abs(x) > P["max_range"] or abs(y) > P["max_range"]:
        return None
    return x, y


def in_zone(x, y, margin):
    z = S["zone"]
    if "corridor" in z:
        wd, near, far = z["corridor"]
        return abs(x) <= wd / 2 + margin and near - margin <= y <= far + margin
    poly = z["polygon"]
    inside = False
    n = len(poly)
    for i in range(n):
        (ax, ay), (bx, by) = poly[i], poly[i - 1]
        if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
            inside = not inside
    if inside or margin <= 0:
        return inside
    for i in range(n):
        (ax, ay), (bx, by) = poly[i - 1], poly[i]
        dx, dy = bx - ax, by - ay
        l2 = dx * dx + dy * dy
        u = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / l2 if l2 > 0 else 0.0))
        if math.hypot(ax + u * dx - x, ay + u * dy - y) <= margin:
            return True
    return False


lines = [json.loads(l) for l in open(out + "/events.jsonl")]
hist = {}       # track -> [(t, y)]
last_seen = {}  # track -> t
zone_state = {}
levels = {}
prev_frame = -1
counts = {"clear": 0, "caution": 0, "warning": 0}
warnings = horizon = checked_fit = checked_ttc = in_zone_n = 0
for r in lines:
    f, t, tr = r["frame"], r["pts"], r["track"]
    if not 0 <= f < n_frames:
        bad(f"frame {f} outside 0..{n_frames - 1}")
    if f < prev_frame:
        bad(f"frame {f} after frame {prev_frame}")
    prev_frame = f
    if r["level"] not in counts:
        bad(f"frame {f}: level {r['level']}")
        continue
    counts[r["level"]] += 1
    warnings += r["changed"] and r["level"] == "warning"
    x1, y1, x2, y2 = r["box"]
    if not (x1 <= x2 and y1 <= y2):
        bad(f"frame {f}: box {r['box']}")
    g = ground(0.5 * (x1 + x2), y2)
    if tr in last_seen and t - last_seen[tr] > 2.0:  # forgotten tracks start over
        hist.pop(tr, None)
        zone_state.pop(tr, None)
        levels.pop(tr, None)
    last_seen[tr] = t
    if g is None:
        horizon += 1
        if r["ground"] or any(r[k] is not None for k in ("distance", "lateral", "ttc", "x", "y")):
            bad(f"frame {f} track {tr}: no ground position but {r}")
        hist[tr] = []
        zone_state[tr] = False
        continue
    if not r["ground"] or not close(r["x"], g[0], 1e-5) or not close(r["y"], g[1], 1e-5) or not close(r["lateral"], g[0], 1e-5):
        bad(f"frame {f} track {tr}: ground ({r['x']}, {r['y']}) lateral {r['lateral']}, recomputed {g}")
        continue
    # the line fit (logic.c): gap rule, window, half-window span, >= 3 samples
    dist, closing = g[1], None
    if tr >= 0:
        h = hist.setdefault(tr, [])
        if h and t - h[-1][0] > P["max_gap"] + 1e-9:
            h.clear()
        h.append((t, g[1]))
        del h[:-64]
        win = [s for s in h if t - s[0] <= W + 1e-9]
        m = len(win)
        if m >= 3 and t - win[0][0] >= 0.5 * W - 1e-9:
            st = sum(s[0] - t for s in win)
            sy = sum(s[1] for s in win)
            stt = sum((s[0] - t) ** 2 for s in win)
            sty = sum((s[0] - t) * s[1] for s in win)
            den = m * stt - st * st
            if den > 1e-12 * m * m:
                slope = (m * sty - st * sy) / den
                dist, closing = (sy - slope * st) / m, -slope
                checked_fit += 1
    if closing is None and r["ego_speed"] > 0:
        closing = r["ego_speed"]
    if not close(r["distance"], dist, 1e-4):
        bad(f"frame {f} track {tr}: distance {r['distance']}, recomputed {dist}")
    if (closing is None) != (r["closing"] is None) or (closing is not None and not close(r["closing"], closing, 1e-3)):
        bad(f"frame {f} track {tr}: closing {r['closing']}, recomputed {closing}")
    ttc = None
    if closing is not None and closing >= P["min_closing"]:
        ttc = dist / closing if dist > 0 else 0.0
    if (ttc is None) != (r["ttc"] is None) or (ttc is not None and not close(r["ttc"], ttc, 1e-3)):
        bad(f"frame {f} track {tr}: ttc {r['ttc']}, recomputed {ttc}")
    checked_ttc += ttc is not None
    # the zone with its margin for objects already in it
    was_in = zone_state.get(tr, False) if tr >= 0 else False
    want_in = in_zone(r["lateral"], r["distance"], P["zone_margin"] if was_in else 0)
    if r["in_zone"] != want_in:
        bad(f"frame {f} track {tr}: in_zone {r['in_zone']} at ({r['lateral']}, {r['distance']}), expected {want_in}")
    zone_state[tr] = r["in_zone"]
    in_zone_n += r["in_zone"]
    # levels: a higher level at once; clear never in the zone; warning when the TTC is below
    if r["in_zone"] and r["level"] == "clear":
        bad(f"frame {f} track {tr}: in the zone but clear")
    if r["in_zone"] and r["ttc"] is not None and r["ttc"] < P["ttc_warning"] and r["level"] != "warning":
        bad(f"frame {f} track {tr}: TTC {r['ttc']} < {P['ttc_warning']} in the zone but {r['level']}")
    prev = levels.get(tr, "clear")
    if tr >= 0 and r["changed"] != (r["level"] != prev):
        bad(f"frame {f} track {tr}: changed {r['changed']} but {prev} -> {r['level']}")
    levels[tr] = r["level"]

if S["frames"] != n_frames:
    bad(f"summary: {S['frames']} frames, expected {n_frames}")
if S["objects"] != len(lines):
    bad(f"summary: {S['objects']} objects, the log has {len(lines)} lines")
if S["object_frames"] != counts:
    bad(f"summary: object_frames {S['object_frames']}, the log has {counts}")
if S["warnings"] != warnings or S["above_horizon"] != horizon:
    bad(f"summary: warnings {S['warnings']} / above_horizon {S['above_horizon']}, the log has {warnings} / {horizon}")
if not lines or checked_fit == 0 or in_zone_n == 0:
    bad(f"the run exercised too little: {len(lines)} objects, {checked_fit} line fits, {in_zone_n} in the zone")
print(f"check_fcw: {len(lines)} object lines, {checked_fit} line fits, {checked_ttc} TTCs, {in_zone_n} in the zone, "
      f"{horizon} above the horizon, levels {counts}; {len(fails)} inconsistencies")
sys.exit(1 if fails else 0)
