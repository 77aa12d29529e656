#!/usr/bin/env bash
# Reproduce the shipped model in models/ from nothing but this repository.
# About 65 minutes on a 2-core CPU (data 8, real-documents set 2, training 50: 40 epochs
# of 56-105 s, conversion 4); every step resumes or is deterministic.
# SKIP_CONVERT=1 stops after training (convert by hand, e.g. with --notes).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-40}
python3 -m training.shards --out data/synth/val --count 600 --seed 1
python3 -m training.shards --out data/synth/tune --count 300 --seed 2
python3 -m training.shards --out data/synth/train --count 6000 --seed 0
python3 -m training.realdocs build --out data/realdocs
python3 -m training.train --data data/synth/train --val data/synth/val --out runs/main \
  --epochs "$EPOCHS" --schedule-epochs "$EPOCHS" --steps-per-epoch 250
if [ "${SKIP_CONVERT:-0}" != 1 ]; then
  python3 -m convert --saved-model runs/main/saved_model --data data/synth/val --tune data/synth/tune \
    --realdocs data/realdocs --train-dir runs/main --out models --tfjs --notes docs/model_notes.md
fi
