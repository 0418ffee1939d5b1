"""From a model directory to a model at work: the SavedModel and its users.

    source.py     which SavedModel a tool reads (--saved_model / --model_dir)
    inference.py  loading a SavedModel and predicting in-process
    evaluation.py scoring a SavedModel on a labelled file (textrnn-evaluate's report)
    rest.py       request bodies -> texts, outputs -> response bodies (no I/O)
    versions.py   which SavedModel version is served, and picking up new ones
    batching.py   requests that arrive together run as one model call
    service.py    the aiohttp application: routes, errors, start and stop

Writing the SavedModel is training's last step (training/export.py); its layout
is util/saved_model.py's. The commands on top: textrnn-export (textrnn/export.py), textrnn-predict,
textrnn-evaluate and textrnn-serve (textrnn/serve.py).
"""
