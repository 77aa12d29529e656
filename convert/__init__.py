"""SavedModel -> TFLite (int8 default, fp16, fp32) and TF.js, with parity checks."""
