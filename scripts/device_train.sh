#!/usr/bin/env bash
# The shipped recipe with many times its compute, on a GPU machine that has no TensorFlow
# and no font packages (the device tool's H200: PyTorch/JAX image, no network). Measures how
# far more training (A: the shipped network) and more capacity with it (B: wider, a second
# block at stride 4) take the detector; it makes no shipped model (that one trains on the
# CPU, scripts/train_model.sh). Prepared here, before the call:
#   python3 -m training.fonts --copy-to .devcarry/fonts; cp -L /usr/share/dict/words .devcarry/words
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl \
#     keras==3.15.1 namex==0.1.0 optree==0.20.0 publicsuffixlist==1.1.2.20261023   # what that image lacks
# then run with carry [.whl, .devcarry]; $OUT gets A/B weights, settings and logs. Back here (2026-12-04: runs/device):
#   python3 -m training.train_device export --weights runs/device/A.weights.h5 --out runs/device/A
#   python3 -m convert --saved-model runs/device/A/saved_model --data data/synth_cam/val --tune data/synth_cam/tune \
#     --realdocs data/realdocs --train-dir runs/device/A --out runs/device/A/models
# MINUTES: each model's training time (they train side by side); COUNT: frames (6000, the shipped run's);
# MODELS: which of A, B, C to train (default A B).
set -uo pipefail
MINUTES=${MINUTES:-7}
COUNT=${COUNT:-6000}
OUT=${OUT:-runs/device}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
nvidia-smi -L
if [ -z "${KERAS_BACKEND:-}" ]; then
  if python3 -c "import jax, sys; sys.exit(jax.devices()[0].platform != 'gpu')"; then export KERAS_BACKEND=jax; else export KERAS_BACKEND=torch; fi
fi
echo "backend $KERAS_BACKEND, $(nproc) cores"
python3 -m training.train_device make --fonts .devcarry/fonts --words .devcarry/words --count "$COUNT" --seed 0 \
  --tilt-p 0.5 --sharpen-p 0.5 --cache /tmp/frames.pkl --workers "$(nproc)" 2>&1 | tr '\r' '\n' | tail -3 | tee "$OUT/make.log"
common=(--cache /tmp/frames.pkl --out "$OUT" --minutes "$MINUTES" --end-weight 3 --out-stride 2 --batch 64)
# C, a control: the CPU run's own size (40 x 250 steps of 16 crops) through this trainer.
declare -A FLAGS=([A]="" [B]="--widths 32,48,96,128 --repeats 2,2,3,2" [C]="--batch 16 --steps 10000 --steps-per-epoch 250")
for m in ${MODELS:-A B}; do
  # shellcheck disable=SC2086
  python3 -m training.train_device fit "${common[@]}" --name "$m" ${FLAGS[$m]} > "$OUT/$m.log" 2>&1 &
done
wait
for m in ${MODELS:-A B}; do tail -n 3 "$OUT/$m.log"; done
