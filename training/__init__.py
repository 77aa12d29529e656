"""Links Detector training: synthetic pages, the model, training, evaluation.

Imports edge_app for every rule the runtime also uses (preprocessing,
decoding, URL rules) and TensorFlow for the model; edge_app never imports
this package.
"""
