"""Settings defined once: a dataclass field holds a setting's default, help and choices,
and the command-line flags are generated from the fields.

    @dataclasses.dataclass
    class Config:
        data_dir: str = setting(None, "Where the data is.", required=True)
        cell: str = setting("lstm", "Recurrent cell type.", choices=("lstm", "gru"))

    define_flags(Config)            # --data_dir, --cell, with these helps and defaults
    Config(**values(Config, FLAGS))  # the parsed flags, typed as the fields say

Flag types follow the defaults: bool, int, float, str (an enum with `choices`) and
tuple (a comma-separated list of the type of its items).
"""

import dataclasses

from absl import flags

# Flags defined here belong to the tool that asks for them: its --help lists them.
flags.disclaim_key_flags()


def setting(default, help, choices=None, required=False):
    """A dataclass field that is also a flag; `required` fields have no default in the
    dataclass (the flag's default is None and the tool checks it)."""
    metadata = dict(help=help, choices=tuple(choices) if choices else None, default=default)
    if required:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def define_flags(config_class, skip=(), only=None):
    """Define one absl flag per field of `config_class` (but those in `skip`; only those
    in `only` when it is given)."""
    for field in dataclasses.fields(config_class):
        if field.name not in skip and (only is None or field.name in only):
            _define(field.name, field.metadata)


def _define(name, meta):
    default, help = meta["default"], meta["help"]
    if meta["choices"]:
        flags.DEFINE_enum(name, default, list(meta["choices"]), help)
    elif isinstance(default, bool):
        flags.DEFINE_bool(name, default, help)
    elif isinstance(default, int):
        flags.DEFINE_integer(name, default, help)
    elif isinstance(default, float):
        flags.DEFINE_float(name, default, help)
    elif isinstance(default, tuple):
        flags.DEFINE_list(name, [str(item) for item in default], help)
    else:
        flags.DEFINE_string(name, default, help)


def values(config_class, FLAGS, skip=()):
    """The fields' values from parsed flags; list flags become tuples of the default's
    item type. A UserError names the flag whose items do not convert."""
    from textrnn.util.errors import UserError
    out = {}
    for field in dataclasses.fields(config_class):
        if field.name in skip:
            continue
        value, default = FLAGS[field.name].value, field.metadata["default"]
        if isinstance(default, tuple):
            item = type(default[0]) if default else str
            try:
                value = tuple(item(v) for v in value or ())
            except ValueError:
                raise UserError(f"--{field.name} must be a comma-separated list of "
                                f"{item.__name__}s, got {','.join(value)}") from None
        out[field.name] = value
    return out



def flagfile(config):
    """A config's settings as flagfile lines (`--name=value`), None values left out: the
    run's flags.txt, repeatable with --flagfile whoever started it."""
    lines = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value is None:
            continue
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, (tuple, list)):
            value = ",".join(map(str, value))
        lines.append(f"--{field.name}={value}")
    return "\n".join(lines) + "\n"
