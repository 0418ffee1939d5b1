"""`textrnn-serve`: an HTTP prediction service speaking TensorFlow Serving's REST API.

    textrnn-serve --model_dir=runs/demo/model
    textrnn-serve --model_base_path=runs/serving/textrnn      # BASE/1, BASE/2, ...: the highest
    curl -d '{"instances": ["国家队在世界杯预选赛中取胜"]}' \\
      http://127.0.0.1:8501/v1/models/textrnn:predict

Clients send raw text and get each text's `label`, `class_id`,
`probabilities` and `unknown_share`, exactly as `tensorflow_model_server`
would answer for the same SavedModel, so client code moves to it unchanged.
SIGTERM or Ctrl-C stops taking connections, finishes the requests in flight
and exits 0.
"""

import asyncio

from absl import flags

from textrnn.serving.service import Settings
from textrnn.util.errors import UserError, run_app

DEFAULTS = Settings()


def define_flags():
    """Flags of textrnn-serve."""
    flags.DEFINE_string("model_dir", None, "A textrnn model directory: serves MODEL_DIR/export "
                        "as version 1.")
    flags.DEFINE_string("saved_model", None, "An exported SavedModel folder, served as "
                        "version 1.")
    flags.DEFINE_string("model_base_path", None, "A folder of numbered versions (BASE/1, "
                        "BASE/2, ..., TensorFlow Serving's layout, written by textrnn-export "
                        "--serving_base=BASE): the highest is served, and a newer one is "
                        "loaded and served as soon as it appears.")
    flags.DEFINE_string("model_name", DEFAULTS.model_name, "The NAME in the URLs "
                        "/v1/models/NAME...")
    flags.DEFINE_string("host", "127.0.0.1", "Address to listen on (0.0.0.0: every interface "
                        "of the machine, to be reached from others).")
    flags.DEFINE_integer("port", 8501, "Port to listen on (TensorFlow Serving's REST port; "
                         "0: any free port, printed at start).")
    flags.DEFINE_integer("max_batch_size", DEFAULTS.max_batch_size, "At most this many texts "
                         "run through the model in one call; requests arriving together share "
                         "a call, and a larger request is cut into calls of this size.")
    flags.DEFINE_float("batch_timeout_ms", DEFAULTS.batch_timeout_ms, "While clients send "
                       "concurrently, wait up to this long for a batch to fill before running "
                       "it (a lone client never waits); 0: run what is waiting at once.")
    flags.DEFINE_float("max_request_mb", DEFAULTS.max_request_mb, "Larger request bodies are "
                       "refused with 413.")
    flags.DEFINE_float("file_system_poll_wait_seconds", DEFAULTS.poll_seconds, "How often "
                       "--model_base_path is checked for a new version.")
    flags.DEFINE_float("shutdown_timeout_s", DEFAULTS.shutdown_timeout_s, "On SIGTERM or "
                       "Ctrl-C, how long the requests in flight get to finish.")


def _settings(FLAGS):
    if FLAGS.max_batch_size < 1:
        raise UserError("--max_batch_size must be at least 1")
    for name in ("batch_timeout_ms", "max_request_mb", "file_system_poll_wait_seconds",
                 "shutdown_timeout_s"):
        if FLAGS[name].value < 0 or (name == "max_request_mb" and FLAGS[name].value == 0):
            raise UserError(f"--{name} must be positive")
    if not 0 <= FLAGS.port < 65536:
        raise UserError("--port must be in 0..65535")
    return Settings(model_name=FLAGS.model_name, max_batch_size=FLAGS.max_batch_size,
                    batch_timeout_ms=FLAGS.batch_timeout_ms, max_request_mb=FLAGS.max_request_mb,
                    poll_seconds=FLAGS.file_system_poll_wait_seconds,
                    shutdown_timeout_s=FLAGS.shutdown_timeout_s)


def main(argv):
    FLAGS = flags.FLAGS
    from textrnn.serving.source import one_source, resolve_export
    one_source(model_dir=FLAGS.model_dir, saved_model=FLAGS.saved_model,
               model_base_path=FLAGS.model_base_path)
    settings = _settings(FLAGS)
    folder = None
    if not FLAGS.model_base_path:
        folder = resolve_export(FLAGS.saved_model, FLAGS.model_dir)
    from textrnn.util import startup
    startup.import_tensorflow()  # after the checks: a bad start is told at once
    from textrnn.serving import service
    from textrnn.serving.versions import Versions
    versions = Versions(folder=folder, base=FLAGS.model_base_path)
    asyncio.run(service.serve(versions, settings, FLAGS.host, FLAGS.port))


def run():
    define_flags()
    run_app(main, tensorflow=False)


if __name__ == "__main__":
    run()
