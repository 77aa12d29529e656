#!/usr/bin/env bash
# Reproduce the shipped model in models/ from nothing but this repository.
# About 90 minutes on a 2-core CPU; every step resumes or is deterministic.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-20}
python3 -m training.shards --out data/synth/val --count 600 --seed 1
python3 -m training.shards --out data/synth/train --count 6000 --seed 0
python3 -m training.realdocs build --out data/realdocs
python3 -m training.train --data data/synth/train --val data/synth/val --out runs/main \
  --epochs "$EPOCHS" --steps-per-epoch 250
python3 -m convert --saved-model runs/main/saved_model --data data/synth/val \
  --realdocs data/realdocs --train-dir runs/main --out models
