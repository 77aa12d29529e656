#!/usr/bin/env bash
# Reproduce the shipped line check (models/line_check.tflite) for the detector in models/.
# About 65 minutes on a 2-core CPU (2026-12-04: frames and strips 25, the realdocs-camera tuning set 2,
# training 17, conversion with its bar grid and photo mode's bars 4, TF.js 1; 2026-12-05: the second realdocs-camera
# tuning set 4, the bars chosen again over the four tuning sets 7). Its frames are synthetic ones of a seed the
# detector never saw and Debian PDF pages of packages disjoint from the real-documents set. The detector must be in models/ first
# (scripts/train_model.sh runs this at its end). For another detector (an experiment): DETECTOR=its .tflite,
# STRIPS / RUN / OUT elsewhere than data/strips, runs/check, models/line_check.tflite, TFJS='' to skip the web copy.
set -euo pipefail
cd "$(dirname "$0")/.."
DETECTOR=${DETECTOR:-models/links_detector.tflite}
STRIPS=${STRIPS:-data/strips}
RUN=${RUN:-runs/check}
OUT=${OUT:-models/line_check.tflite}
TFJS=${TFJS-models/tfjs_line_check}
mkdir -p "$STRIPS"
CAMERA=(--tilt-p 0.5 --sharpen-p 0.5)
[ -d data/synth_cam/tune ] || python3 -m training.shards --out data/synth_cam/tune --count 300 --seed 2 "${CAMERA[@]}"
[ -d data/synth_cam/check ] || python3 -m training.shards --out data/synth_cam/check --count 4000 --seed 3 "${CAMERA[@]}"
[ -d data/pdftrain_ign ] || python3 -m training.pdfpages --out data/pdftrain_ign --count 1500 --ignore-lookalikes --workers 1
[ -d data/pdftrain_ign2 ] || python3 -m training.pdfpages --out data/pdftrain_ign2 --count 3000 --seed 4 --ignore-lookalikes --workers 2
[ -d data/pdftune ] || python3 -m training.pdfpages --split tune --out data/pdftune --count 300 --seed 11 --ignore-lookalikes --workers 1
# The same tuning documents photographed by the real-documents camera, aimed at their links (many
# wrapped): the check's bars, the wrap bar above all, are chosen on these too.
[ -d data/realcam_tune ] || python3 -m training.realdocs build --out data/realcam_tune --no-packages --images 240 --seed 5 \
  --pdf $(python3 -c "import json; print(' '.join(sorted({p['pdf'] for p in json.load(open('data/pdftune/pages.json'))})))")
for pair in train:synth_cam/check pdf:pdftrain_ign pdf2:pdftrain_ign2 tune:synth_cam/tune pdftune:pdftune; do
  python3 -m training.line_strips --model "$DETECTOR" --data "data/${pair#*:}" --out "$STRIPS/${pair%%:*}.npz"
done
python3 -m training.line_check_model --train "$STRIPS/train.npz,$STRIPS/pdf.npz,$STRIPS/pdf2.npz" --val "$STRIPS/tune.npz,$STRIPS/pdftune.npz" \
  --out "$RUN" --epochs 8 --width 64
python3 -m convert.line_check --saved-model "$RUN/saved_model" --strips "$STRIPS/tune.npz" --detector "$DETECTOR" \
  --tune data/synth_cam/tune,data/pdftune,data/realcam_tune --candidate-min-score 0.75,0.8,0.85 \
  --candidate-join-threshold none,0.3,0.2 --wrap-keep none,0.05,0.2 --photo-long-side 1280 \
  --out "$OUT" --train-dir "$RUN"
# Still frames' bars chosen again over a fourth tuning set, nine more packages' documents through the real-documents
# camera (twenty-fifth session): the candidate bar and join as the conversion chose them (they also make video's
# candidates), and video keeps the conversion's keep and veto: the stricter keep chosen on sharp stills loses
# blurred video frames (model card, twenty-fifth session).
[ -d data/realcam_tune2 ] || python3 -m training.realdocs build --packages tune --out data/realcam_tune2 --images 400 --seed 21
read -r CAND JOIN KEEP VETO < <(python3 -c "import json, sys; d = json.load(open(sys.argv[1])); \
print(d['candidate_min_score'], d['candidate_join_threshold'] or 'none', d['keep'], d['veto'])" "${OUT%.tflite}.json")
python3 -m convert.line_check --retune "$OUT" --detector "$DETECTOR" \
  --tune data/synth_cam/tune,data/pdftune,data/realcam_tune,data/realcam_tune2 --tune-limit 400 \
  --candidate-min-score "$CAND" --candidate-join-threshold "$JOIN" --wrap-keep none,0.05,0.2 --photo-long-side 1280 \
  --video-keep "$KEEP" --video-veto "$VETO" --out "$OUT"
# The web's copy (TF.js graph model, checked against the SavedModel in Node.js where it is installed).
if [ -n "$TFJS" ]; then python3 -m convert.tfjs_export "$RUN/saved_model" "$TFJS"; fi
