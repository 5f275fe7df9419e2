"""Training: config.py (every knob; its defaults are the default recipe, and the train flags are
made from its fields) -> data.py (photos to augmented Lab batches, simulated hints, old-print
damage from degrade.py, draws weighted by source group) -> recipe.py (model, loss and sample grids
around) loop.py (the loop: knows nothing of colour), losses.py; torchrun's processes are
runtime.py's. Imports the base modules and models (the hint tensors: models/hint_inputs.py); never
inference, media, app or cli (tests/test_layers.py)."""
