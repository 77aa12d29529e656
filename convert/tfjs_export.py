"""SavedModel -> TF.js graph model, in a separate light environment.

    python -m convert.tfjs_export runs/main/saved_model models/tfjs [--quantize uint8|float16]

``tensorflowjs`` 4.22 requires tensorflow-decision-forests, which pins
TensorFlow back to 2.19, plus jax and flax: installed into the main
environment it would replace the TensorFlow 2.21 everything else is built
and measured with. So the converter runs in ``.venv-tfjs`` (gitignored),
created on first use as the lightest combination that works:

    python -m venv --system-site-packages .venv-tfjs
    .venv-tfjs/bin/pip install --no-deps tensorflowjs==4.22.0 tf-keras==<TF x.y>.* tensorflow-hub==0.16.1

It reuses the main environment's TensorFlow and installs three pure-Python
wheels (a few MB, seconds) instead of a second TensorFlow, jax and flax.
The two modules tensorflowjs imports but never uses for a SavedModel
conversion are stood in for by ``convert/tfjs_driver.py``, which runs
``tensorflowjs_converter``. (Tried: ``pip install tensorflowjs`` with its
dependencies (TF 2.19, jax, flax, TF-DF, hundreds of MB) and
``--no-deps`` alone, which fails on the missing tf_keras, tensorflow_hub,
tensorflow_decision_forests and jax imports.)

The result is checked: every shard the weights manifest names exists and
holds exactly the bytes its weights need; and where Node.js and npm are
present, ``@tensorflow/tfjs-converter`` with the CPU backend (installed into
``.venv-tfjs/node``) loads the
model and runs one frame, compared with the SavedModel's own output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO / ".venv-tfjs"
DRIVER = Path(__file__).resolve().parent / "tfjs_driver.py"
TFJS_VERSION = "4.22.0"
TF_HUB_VERSION = "0.16.1"
# Only what loading and running a graph model needs (the @tensorflow/tfjs
# bundle adds layers, data, WebGL and ~290 MB of node_modules).
TFJS_NPM = [f"@tensorflow/{p}@{TFJS_VERSION}" for p in ("tfjs-core", "tfjs-converter", "tfjs-backend-cpu")]
QUANTIZE = {None: [], "uint8": ["--quantize_uint8", "*"], "float16": ["--quantize_float16", "*"]}
_DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "uint8": 1, "float16": 2, "int8": 1, "uint16": 2, "int16": 2}


class TfjsExportError(RuntimeError):
    """The TF.js export failed; the message says what to do."""


@dataclass(frozen=True)
class TfjsResult:
    out_dir: Path
    size_bytes: int  # model.json + weight shards
    files: list[str]
    weights: int  # weight tensors in the manifest
    quantize: str | None
    converter_version: str
    seconds: float  # the conversion itself
    node_check: dict | None = field(default=None)  # {"tfjs", "shape", "max_abs_diff"} when Node.js ran it

    def to_json(self) -> dict:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


def _tf_version() -> str:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    raise TfjsExportError("TensorFlow is not installed: pip install -e '.[train]'")


def _run(cmd: list[str], what: str, timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TfjsExportError(f"{what} failed: {exc}") from exc
    if r.returncode != 0:
        tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-8:])
        raise TfjsExportError(f"{what} failed (exit {r.returncode}):\n{tail}")
    return r


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_env(venv: Path = DEFAULT_VENV) -> tuple[Path, str]:
    """The converter environment's interpreter and its version line, created
    on first use (see the module doc)."""
    py = _venv_python(venv)
    if py.exists():
        r = subprocess.run([str(py), str(DRIVER), "--version"], capture_output=True, text=True)
        if r.returncode == 0:
            return py, r.stdout.strip().splitlines()[-1]
        log.warning("%s is broken, recreating it", venv)
        shutil.rmtree(venv)
    tf_minor = ".".join(_tf_version().split(".")[:2])
    log.info("creating %s (tensorflowjs %s over the main TensorFlow %s)", venv, TFJS_VERSION, tf_minor)
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], "creating the TF.js environment")
    _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", f"tensorflowjs=={TFJS_VERSION}",
          f"tf-keras=={tf_minor}.*", f"tensorflow-hub=={TF_HUB_VERSION}"], "installing tensorflowjs")
    r = _run([str(py), str(DRIVER), "--version"], "checking the TF.js environment")
    return py, r.stdout.strip().splitlines()[-1]


def check_manifest(out_dir: Path) -> tuple[int, list[str]]:
    """Every shard exists and holds exactly its weights' bytes. -> (weights, files)."""
    mj = out_dir / "model.json"
    if not mj.is_file():
        raise TfjsExportError(f"no model.json in {out_dir}")
    model = json.loads(mj.read_text())
    if model.get("format") != "graph-model" or "modelTopology" not in model:
        raise TfjsExportError(f"{mj} is not a TF.js graph model")
    n, files = 0, ["model.json"]
    for group in model["weightsManifest"]:
        need = 0
        for wt in group["weights"]:
            dtype = (wt.get("quantization") or {}).get("dtype", wt["dtype"])
            need += int(np.prod(wt["shape"], dtype=np.int64)) * _DTYPE_BYTES[dtype]
            n += 1
        have = 0
        for p in group["paths"]:
            f = out_dir / p
            if not f.is_file():
                raise TfjsExportError(f"weight shard {p} named in model.json is missing")
            have += f.stat().st_size
            files.append(p)
        if have != need:
            raise TfjsExportError(f"weight shards {group['paths']} hold {have} bytes, the manifest needs {need}")
    return n, files


_NODE_SCRIPT = r"""
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');
const fs = require('fs'); const path = require('path');
const [dir, inPath] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
const specs = [], bufs = [];
for (const g of model.weightsManifest) {
  specs.push(...g.weights);
  for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
}
const all = Buffer.concat(bufs);
const handler = { load: async () => ({
  modelTopology: model.modelTopology, format: model.format, generatedBy: model.generatedBy,
  convertedBy: model.convertedBy, signature: model.signature, userDefinedMetadata: model.userDefinedMetadata,
  modelInitializer: model.modelInitializer, weightSpecs: specs,
  weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) }) };
(async () => {
  await tf.setBackend('cpu');
  const m = await converter.loadGraphModel(handler);
  const inp = JSON.parse(fs.readFileSync(inPath));
  const x = tf.tensor(inp.data, inp.shape, 'float32');
  const y = m.execute(x);
  process.stdout.write(JSON.stringify({tfjs: tf.version_core, shape: y.shape, data: Array.from(y.dataSync())}));
})().catch(e => { console.error(String(e)); process.exit(1); });
"""


def _node_check(venv: Path, out_dir: Path, saved_model: Path) -> dict | None:
    """Run the exported model in Node.js and compare with the SavedModel.
    None where Node.js or npm is missing (the manifest check still ran)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        log.info("no node/npm here: skipping the TF.js load check")
        return None
    node_dir = venv / "node"
    if not (node_dir / "node_modules" / "@tensorflow" / "tfjs-converter").is_dir():
        node_dir.mkdir(parents=True, exist_ok=True)
        try:
            _run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(node_dir), *TFJS_NPM],
                 "npm install @tensorflow/tfjs-converter", timeout=600)
        except TfjsExportError as exc:
            log.warning("cannot install %s, skipping the load check: %s", TFJS_NPM, exc)
            return None
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model))  # kept: serve() needs its variables alive
    # The signature's own size where it fixes one (the line check's strips), else a small frame.
    sig = next(iter(loaded.signatures["serving_default"].structured_input_signature[1].values())).shape
    shape = [1] + [d if d is not None else fallback for d, fallback in zip(sig[1:], (64, 96, 1))]
    x = np.random.default_rng(0).integers(0, 256, shape).astype(np.float32)
    ref = np.asarray(loaded.serve(x))
    script = node_dir / "run_graph_model.js"
    script.write_text(_NODE_SCRIPT)
    inp = node_dir / "input.json"
    inp.write_text(json.dumps({"shape": list(x.shape), "data": x.ravel().tolist()}))
    r = _run([node, str(script), str(out_dir.resolve()), str(inp)], "running the TF.js model in Node.js",
             timeout=300, env={**os.environ, "NODE_PATH": str(node_dir / "node_modules")})
    got = json.loads(r.stdout)
    y = np.asarray(got["data"], np.float32).reshape(got["shape"])
    if y.shape != ref.shape:
        raise TfjsExportError(f"TF.js model output {y.shape} differs from the SavedModel's {ref.shape}")
    return {"tfjs": got["tfjs"], "input": list(x.shape), "shape": list(y.shape),
            "max_abs_diff": float(np.abs(y - ref).max())}


def export_tfjs(saved_model: Path, out_dir: Path, quantize: str | None = None, venv: Path = DEFAULT_VENV,
                verify: bool = True) -> TfjsResult:
    """Convert ``saved_model`` into a TF.js graph model in ``out_dir`` (replaced)."""
    if quantize not in QUANTIZE:
        raise ValueError(f"quantize must be one of {list(QUANTIZE)}")
    saved_model = Path(saved_model)
    if not (saved_model / "saved_model.pb").is_file():
        raise TfjsExportError(f"{saved_model} is not a SavedModel folder (no saved_model.pb)")
    py, version = ensure_env(venv)
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    _run([str(py), str(DRIVER), "--input_format=tf_saved_model", "--output_format=tfjs_graph_model",
          "--signature_name=serving_default", *QUANTIZE[quantize], str(saved_model), str(out_dir)],
         "tensorflowjs_converter", env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    seconds = time.perf_counter() - t0
    n, files = check_manifest(out_dir)
    size = sum((out_dir / f).stat().st_size for f in files)
    node = _node_check(venv, out_dir, saved_model) if verify else None
    res = TfjsResult(out_dir, size, files, n, quantize, version, round(seconds, 2), node)
    log.info("TF.js graph model: %s, %.1f KB in %d files, %.1f s", out_dir, size / 1024, len(files), seconds)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("saved_model", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--quantize", choices=["uint8", "float16"])
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--no-verify", action="store_true", help="skip the Node.js load check")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        res = export_tfjs(args.saved_model, args.out_dir, args.quantize, args.venv, not args.no_verify)
    except TfjsExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(res.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
