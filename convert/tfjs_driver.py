"""Runs ``tensorflowjs_converter`` inside the light TF.js environment.

Executed by path with the .venv-tfjs interpreter (see convert.tfjs_export),
never imported by the project. That environment sees the main environment's
TensorFlow 2.21 (``--system-site-packages``) and holds only tensorflowjs,
tf-keras and tensorflow-hub, installed without their dependencies, because
tensorflowjs 4.22's own requirements pull TensorFlow back to 2.19 (through
tensorflow-decision-forests) and add jax and flax.

tensorflowjs imports two of those at module level although a SavedModel ->
graph-model conversion never calls them: jax (through its own
``converters.jax_conversion``, for ``convert_jax``) and
``tensorflow_decision_forests`` (to register TF-DF ops for TF-DF models).
Stand-ins for those two modules go into ``sys.modules`` here, in this process
only; using either raises. ``jax`` itself is not faked: Keras 3 probes for it.
"""

from __future__ import annotations

import sys
import types


def _unavailable(*_args, **_kwargs):
    raise RuntimeError("not available in the light TF.js environment (no jax / TF-DF installed)")


def _install_stand_ins() -> None:
    try:
        import tensorflow_decision_forests  # noqa: F401  (a full environment has it)
    except ImportError:
        sys.modules["tensorflow_decision_forests"] = types.ModuleType("tensorflow_decision_forests")
    try:
        import jax  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("tensorflowjs.converters.jax_conversion")
        stand_in.convert_jax = _unavailable  # type: ignore[attr-defined]
        sys.modules["tensorflowjs.converters.jax_conversion"] = stand_in


def main(argv: list[str]) -> int:
    _install_stand_ins()
    if argv[:1] == ["--version"]:
        import tensorflow as tf
        import tensorflowjs

        print(f"tensorflowjs {tensorflowjs.__version__} tensorflow {tf.__version__}")
        return 0
    from tensorflowjs.converters import converter

    sys.argv = ["tensorflowjs_converter", *argv]
    converter.pip_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
