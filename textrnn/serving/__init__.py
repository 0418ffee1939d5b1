"""Serving a SavedModel over HTTP, speaking TensorFlow Serving's REST API.

    rest.py      request bodies -> texts, outputs -> response bodies (no I/O)
    versions.py  which SavedModel version is served, and picking up new ones
    batching.py  requests that arrive together run as one model call
    service.py   the aiohttp application: routes, errors, start and stop

`textrnn-serve` (textrnn/serve.py) is the command that runs it.
"""
