"""The HTTP service: TensorFlow Serving's REST endpoints over aiohttp.

aiohttp is the server library because the service is mostly waiting: on
clients, on the batch being filled, on the model thread. An asyncio server
holds thousands of idle keep-alive connections and per-request timers in one
thread at no cost, parses HTTP in its C extension, enforces the body limit
while reading, and drains requests in flight on shutdown; it is well kept
and needs nothing beyond pip. The model runs in batching.Batcher's worker
thread, never on the event loop.

    GET  /v1/models/NAME[/versions/N]              model_version_status
    GET  /v1/models/NAME[/versions/N]/metadata     signature_def
    POST /v1/models/NAME[/versions/N]:predict      instances/inputs -> predictions/outputs

Every error is `{"error": "..."}`: 400 for a bad request, 404 for an unknown
model, version, signature or path, 405 for a wrong method, 413 for a body
over the limit, 500 (and a traceback on the service's stderr) for a fault.
"""

import asyncio
import dataclasses
import json
import signal
import socket
import sys
import traceback

from aiohttp import web

from textrnn.serving import rest
from textrnn.serving.batching import Batcher
from textrnn.serving.versions import Versions
from textrnn.util.console import say


@dataclasses.dataclass
class Settings:
    model_name: str = "textrnn"
    max_batch_size: int = 128
    batch_timeout_ms: float = 2.0
    max_request_mb: float = 32.0
    poll_seconds: float = 1.0
    shutdown_timeout_s: float = 30.0


@dataclasses.dataclass
class _State:
    versions: Versions
    settings: Settings
    batcher: Batcher = None


STATE = web.AppKey("state", _State)
SOLO_SIGNATURES = ("tokenize",)  # its padded output's width is the batch's: never combined


def make_app(versions, settings):
    """The aiohttp application serving `versions` (a Versions)."""
    app = web.Application(client_max_size=int(settings.max_request_mb * 2**20),
                          middlewares=[_json_errors])
    app[STATE] = _State(versions, settings)
    app.cleanup_ctx.append(_batcher)
    app.cleanup_ctx.append(_version_poller)
    name, version = "/v1/models/{name:[^/:]+}", "/versions/{version:[^/:]+}"
    for prefix in (name, name + version):
        app.router.add_get(prefix, _status)
        app.router.add_get(prefix + "/metadata", _metadata)
        app.router.add_post(prefix + ":{verb:[^/:]+}", _predict)
    return app


async def _batcher(app):
    state = app[STATE]
    state.batcher = Batcher(lambda key, texts: key[0].run(key[1], texts),
                            state.settings.max_batch_size, state.settings.batch_timeout_ms / 1000)
    yield
    await state.batcher.close()


async def _version_poller(app):
    state = app[STATE]

    async def poll():
        while True:
            await asyncio.sleep(state.settings.poll_seconds)
            await asyncio.to_thread(state.versions.refresh)

    task = asyncio.get_running_loop().create_task(poll()) if state.versions.base else None
    yield
    if task:
        task.cancel()


def _served(request):
    """The ServedModel the URL names (404 if none)."""
    state = request.app[STATE]
    name, version = request.match_info["name"], request.match_info.get("version")
    if name != state.settings.model_name:
        raise rest.not_found(name, version)
    if version is not None and not version.isdecimal():
        raise rest.bad_request(f"version: expected a version number, got {version!r}")
    served = state.versions.get(None if version is None else int(version))
    if served is None:
        raise rest.not_found(name, version)
    return served


def _json(body, status=200):
    return web.Response(body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                        status=status, content_type="application/json")


async def _status(request):
    return _json(rest.version_status([_served(request).version]))


async def _metadata(request):
    served = _served(request)
    return _json(rest.metadata(request.app[STATE].settings.model_name, served.version,
                               served.signature_defs))


async def _predict(request):
    served = _served(request)
    verb = request.match_info["verb"]
    if verb != "predict":
        raise rest.bad_request(f"':{verb}' is not served; textrnn-serve answers ':predict' "
                               "(its signatures are prediction signatures)")
    body = rest.parse_body(await request.read())
    signature = rest.signature_name(body)
    if signature not in served.signatures:
        raise rest.RequestError(404, f"signature_name: {signature!r} is not a signature of "
                                f"this model; it has {', '.join(sorted(served.signatures))}")
    texts, columnar = rest.predict_texts(body, served.inputs[signature])
    outputs = await request.app[STATE].batcher.submit(
        (served, signature), texts, combine=signature not in SOLO_SIGNATURES)
    return _json(rest.predict_reply(outputs, columnar))


@web.middleware
async def _json_errors(request, handler):
    """Every failure as {"error": ...} with its status; a fault never ends the service."""
    try:
        return await handler(request)
    except rest.RequestError as error:
        return _json({"error": error.message}, error.status)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[STATE].settings.max_request_mb
        return _json({"error": f"the request body is over the service's limit of {limit:g} MB "
                               "(--max_request_mb); send fewer or shorter texts per request"},
                     413)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        what = {404: f"no such endpoint: {request.method} {request.path}",
                405: f"{request.method} is not allowed on {request.path}"}
        return _json({"error": what.get(error.status, error.reason)}, error.status)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        return _json({"error": f"internal error: {type(error).__name__}: {error}"}, 500)


def _bind(host, port):
    """A listening socket on host:port (port 0: a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


def url(host, port):
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


async def serve(versions, settings, host, port):
    """Serve until SIGTERM or Ctrl-C, then finish the requests in flight and return."""
    runner = web.AppRunner(make_app(versions, settings), access_log=None,
                           shutdown_timeout=settings.shutdown_timeout_s)
    await runner.setup()
    try:
        sock = _bind(host, port)
    except OSError as error:
        await runner.cleanup()
        from textrnn.util.errors import UserError
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    address = url(host, sock.getsockname()[1])
    served = versions.current
    example = json.dumps({"instances": ["国家队在世界杯预选赛中取胜"]}, ensure_ascii=False)
    say(f"serving {settings.model_name} version {served.version} ({served.export_dir}) at "
        f"{address} -- try: curl -d '{example}' "
        f"{address}/v1/models/{settings.model_name}:predict")
    await stop.wait()
    say("stopping: no new connections; finishing the requests in flight")
    await runner.cleanup()
    say("stopped")
