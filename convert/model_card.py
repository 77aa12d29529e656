"""models/MODEL_CARD.md, rendered from the figures convert measured."""

from __future__ import annotations

from pathlib import Path


def _acc_rows(acc: dict) -> list[str]:
    rows = ["| set | model | precision | recall | F1 | link recall | line quads | images |", "|---|---|---|---|---|---|---|---|"]
    for name, by_model in acc.items():
        for model, s in by_model.items():
            rows.append(f"| {name} | {model} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                        f"{s['link_recall']:.3f} | {s['line_quads']} | {s['images']} |")
    return rows


def _recall_by(acc: dict) -> list[str]:
    names = list(acc)
    keys = sorted({k for n in names for k in acc[n]["int8"]["recall_by"]})
    rows = ["| slice | " + " | ".join(f"{n} recall (n)" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for k in keys:
        cells = []
        for n in names:
            v = acc[n]["int8"]["recall_by"].get(k)
            cells.append(f"{v['recall']:.3f} ({v['n']})" if v else "–")
        rows.append(f"| {k} | " + " | ".join(cells) + " |")
    return rows


def _camera_extras(data: dict) -> str:
    cam = (data.get("config") or {}).get("camera") or {}
    extras = []
    if cam.get("tilt_p"):
        extras.append(f"a camera tilted against the page by up to {cam.get('max_tilt_deg'):g} degrees "
                      f"({cam['tilt_p']:.0%} of frames)")
    if cam.get("sharpen_p"):
        extras.append(f"a processor's sharpening ({cam['sharpen_p']:.0%} of frames)")
    return "; " + ", ".join(extras) if extras else ""


def _parity_line(variants: dict, retuned: bool) -> list[str]:
    counts = {d["parity"].get("images") for d in variants.values()} - {None}
    if not counts:
        return []
    ref = "the fp32 export (see the retuning below)" if retuned else "the float SavedModel"
    return [f"Map error and F1 drop: each export against {ref} on the same {max(counts)} synthetic "
            "validation frames, at the shipped decoding settings.", ""]


def _searched(t: dict) -> str:
    """The values a restricted search chose among (convert.retune's --thresholds etc.)."""
    fixed = "; ".join(f"{k.replace('_', ' ')} {', '.join(_join(x) for x in v)}" for k, v in (t.get("searched") or {}).items())
    return f" (searched only: {fixed})" if fixed else ""


def _join(j: float | None) -> str:
    return "none" if j is None else f"{j:g}"


def _retune_lines(info: dict) -> list[str]:
    r = info.get("retune")
    if not r:
        return []
    par = r.get("conversion_parity_fp32") or {}
    return ["## Decoding retuned after conversion",
            f"The decoding was chosen again on the converted files (`{r['command']}`, commit {r.get('commit')}): "
            "the accuracy, the thresholds and the F1 drops on this card are from that run. Its float model is the "
            f"fp32 export (`{r['float_reference']}`), whose maps matched the SavedModel's at conversion (map MAE "
            f"{par.get('map_mae', 'n/a')}); sizes and latencies are the conversion's.", ""]


def write_card(path: Path, info: dict) -> None:
    v = info["variants"]
    sizes = list(next(iter(v.values()))["latency_ms_2_threads"])
    lat = ["| variant | file size | " + " | ".join(f"{s} p50 ms" for s in sizes) + " | map MAE vs float | F1 drop vs float |",
           "|---|---|" + "---|" * len(sizes) + "---|---|"]
    for name, d in v.items():
        cells = " | ".join(f"{d['latency_ms_2_threads'][s]['p50_ms']:.1f}" for s in sizes)
        lat.append(f"| {name} | {d['size_bytes'] / 1024:.0f} KB | {cells} | {d['parity']['map_mae']:.4f} | {d['parity']['f1_drop']:+.4f} |")
    tr = info.get("training", {}).get("train", {})
    net = info.get("training", {}).get("model", {})
    data = info.get("data", {})
    out_stride = net.get("out_stride", 4)
    lines = [
        f"# Model card: {info['name']}",
        "",
        "A small fully convolutional network that outlines every printed link line in a camera frame.",
        "Input: grayscale, any size that is a multiple of 32 (the runtime resizes the frame's longer side to "
        f"{info.get('long_side', 640)}, set in the sidecar), raw 0..255 pixels. Output at stride {out_stride}: sigmoid maps for link lines (shrunk to their central band) "
        "and for all text; `edge_app.decode` turns the link map into one quad per printed line.",
        "",
        "Shipped file: `links_detector.tflite`, full-integer int8 (uint8 input and output), with its sidecar "
        "`links_detector.json`. fp16 and fp32 exports for comparison in `variants/`.",
        "",
        "## Size and latency",
        f"Measured on this machine: {info['machine']['cpu']}, {info['machine']['cores']} cores, LiteRT with "
        f"{info['machine']['threads']} threads, median of 50 runs after 5 warm-up runs.",
        "",
        *lat,
        "",
        *_parity_line(v, "retune" in info),
    ]
    if "accuracy" in info:
        figures = info.get("figures", "docs")
        lines += [
            "## Accuracy",
            "Detection of link line quads, IoU >= 0.5 (a link wrapped over two lines is two quads). Links cut "
            "by the frame edge are neither counted as misses nor as false alarms. *link recall*: all lines of "
            "the link found.",
            "",
            "- **synthetic**: our generator's validation split (seed 1, never trained on).",
            "- **realdocs**: real PDF documents from Debian packages, rendered and photographed by an "
            "independent camera simulation (`training/realdocs.py`); labels from the PDF text layer.",
            "",
            *_acc_rows(info["accuracy"]),
            "",
            "Recall of the int8 model by slice:",
            "",
            *_recall_by(info["accuracy"]),
            "",
            f"Worst cases: `{figures}/worst_synthetic.png`, `{figures}/worst_realdocs.png` (green: truth, red: detections).",
            "",
        ]
    if "decode_tuning" in info:
        t = info["decode_tuning"]
        lines += [
            "## Input size and decoding thresholds",
            f"Chosen by grid search for the best F1 of the int8 model on `{t['split']}`, a synthetic split of its "
            f"own (seed 2), not the one reported above (a larger input had to gain 0.01 F1): input long side "
            f"{t['long_side']}, pixel threshold {t['threshold']}, region min_score {t['min_score']}, "
            f"join threshold {_join(t.get('join_threshold'))} (tuning split "
            f"P {t['precision']:.3f} R {t['recall']:.3f} F1 {t['f1']:.3f}){_searched(t)}. The join threshold links the pieces "
            "above the pixel threshold that pixels above it connect into one line (hysteresis). Best of each "
            "input size, and at the chosen size the best without joining:",
            "",
            "| long side | threshold | min_score | join | precision | recall | F1 |",
            "|---|---|---|---|---|---|---|",
        ]
        best_rows = [max((g for g in t["grid"] if g["long_side"] == ls), key=lambda g: g["f1"])
                     for ls in sorted({g["long_side"] for g in t["grid"]})]
        unjoined = [g for g in t["grid"] if g["long_side"] == t["long_side"] and g.get("join_threshold") is None]
        if t.get("join_threshold") is not None and unjoined:
            best_rows.append(max(unjoined, key=lambda g: g["f1"]))
        for g in best_rows:
            lines.append(f"| {g['long_side']} | {g['threshold']} | {g['min_score']} | {_join(g.get('join_threshold'))} | "
                         f"{g['precision']:.3f} | {g['recall']:.3f} | {g['f1']:.3f} |")
        lines.append("")
        if "height_scale" in t:
            hs = t["height_scale"]
            lines += [f"Decoded quads are then scaled to {hs['value']} of their height: the median true / decoded "
                      f"line height over {hs['pairs']} matched lines of the tuning split (a trained band comes out "
                      "thicker than its target, and too tall a quad hands Tesseract its neighbours' ink).", ""]
    lines += _retune_lines(info)
    if "tfjs" in info:
        lines += ["## TF.js", f"Graph model in `{info['tfjs']['dir']}`, {info['tfjs']['size_bytes'] / 1024:.0f} KB, "
                  f"converter {info['tfjs']['converter']}.", ""]
    lines += [
        "## Data",
        f"{data.get('count')} synthetic frames (seed {data.get('seed')}; {data.get('links')} links), "
        f"{len(data.get('fonts') or [])} font families / {data.get('font_faces')} faces from Debian font packages. "
        "See `training/` for the recipe: prose, headings, lists, reference lists, footnotes, boxed and inverted "
        "notes; https/http/www/bare/ftp links inline, in parentheses, italic, bold, monospace, underlined, "
        "coloured, wrapped over lines; perspective, rotation, page curl, blur, noise, JPEG, uneven light, shadows, "
        "glare" + _camera_extras(data) + ". Data command: `" + str(data.get("command")) + "`.",
        "",
        "## Training",
        f"Keras 3 / TensorFlow 2.21 on the CPU: {tr.get('epochs')} epochs x {tr.get('steps_per_epoch')} steps, "
        f"batch {tr.get('batch')}, {tr.get('crop')}x{tr.get('crop')} random crops, AdamW lr {tr.get('lr')} cosine, "
        "BCE + dice on the link map, BCE on the text map."
        + (f" Link-map BCE counts {1 + tr['end_weight']:g}x around each line's two ends (`--end-weight "
           f"{tr['end_weight']:g}`)." if tr.get("end_weight") else "")
        + (f" Network: stem {net.get('stem')}, widths {net.get('widths')} and inverted residual blocks "
           f"{net.get('repeats')} at strides 4, 8, 16, 32, FPN {net.get('fpn')}"
           + (f", one more FPN level at stride 2 fed by the stem ({net.get('s2_width') or net.get('stem')} channels, "
              "`--out-stride 2`" + (", the head at stride 4, `--s2-lite`" if net.get("s2_lite") else "")
              + (", no depthwise after the head's 1x1, `--no-head-dw`" if net.get("head_dw") is False else "") + ")"
              if out_stride == 2 else "") + "." if net else ""),
        "",
        "## Reproduce",
        "```",
        "bash scripts/train_model.sh",
        "```",
        f"Converted at commit `{info.get('commit')}` (the notes below say where it was trained). "
        f"Convert command: `{info.get('convert_command')}`.",
        "",
        *([info["notes"], ""] if info.get("notes") else []),
        "## Limits",
        "- Trained on synthetic pages only; no real photographs were available. The realdocs figures are the "
        "best estimate of behaviour on real pages.",
        "- Latin script, horizontal text; links set in display type larger than ~40 px x-height in the model "
        "input are outside the training range.",
        "",
    ]
    path.write_text("\n".join(lines))
