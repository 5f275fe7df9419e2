"""Training: config.py (every knob) -> data.py (photos to augmented Lab batches, simulated hints)
-> recipe.py (model, loss and sample grids around) loop.py (the loop: knows nothing of colour),
losses.py; torchrun's processes are runtime.py's. Imports color, images, hints, degrade, models, inference."""
