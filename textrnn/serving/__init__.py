"""From a model directory to a model at work: the SavedModel and its users.

    export.py     a model directory (or several) as one raw-text SavedModel
    source.py     which SavedModel a tool reads (--saved_model / --model_dir)
    inference.py  loading a SavedModel and predicting in-process
    rest.py       request bodies -> texts, outputs -> response bodies (no I/O)
    versions.py   which SavedModel version is served, and picking up new ones
    batching.py   requests that arrive together run as one model call
    service.py    the aiohttp application: routes, errors, start and stop

The commands on top: textrnn-export (textrnn/export.py), textrnn-predict,
textrnn-evaluate and textrnn-serve (textrnn/serve.py).
"""
