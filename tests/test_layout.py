"""The package reads like its pipeline: stage subpackages in data-flow order, the
commands on top, no module too long to read at once."""

import ast
import configparser
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "textrnn"
# Data flows left to right; a module may import from its own stage or an earlier one.
# training/ holds the two models (recurrent/, wide/) as siblings, and the loop over both.
STAGES = ["util", "text", "features", "training", "serving", "curation"]
# Top-level modules that are not commands: the library's front door, above every stage.
FRONT_DOOR = {"textrnn.classifier"}
MAX_LINES = 400


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield path, ".".join(p for p in parts if p != "__init__")


def _stage(module):
    """Index of a dotted textrnn module's stage; the commands come after every stage."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return STAGES.index(parts[1])
    return len(STAGES)


def _imports(path):
    """(line, module) for every textrnn module path imports, in functions too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textrnn"):
            if node.module == "textrnn":  # `from textrnn import x`: x is a module or a name
                for alias in node.names:
                    name = f"textrnn.{alias.name}"
                    if (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir():
                        yield node.lineno, name
            else:
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.startswith("textrnn."))


def test_no_import_climbs_back_up_the_stages():
    climbs = [f"{path.relative_to(ROOT)}:{line}: {module} imports {name}"
              for path, module in _modules() for line, name in _imports(path)
              if _stage(name) > _stage(module)]
    assert not climbs, "\n".join(climbs)


def test_the_climb_check_sees_a_climb(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("def f():\n    from textrnn.serving import service\n")
    assert list(_imports(path)) == [(2, "textrnn.serving")]
    assert _stage("textrnn.serving") > _stage("textrnn.text.vocab")


def test_top_level_modules_are_the_commands():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"].strip().splitlines()
    commands = {line.split("=")[1].strip().split(":")[0] for line in scripts}
    top = {module for path, module in _modules() if module.count(".") == 1
           and path.name != "__init__.py" and module.split(".")[1] not in STAGES}
    assert top == commands | FRONT_DOOR


def test_every_stage_is_a_package_that_says_what_it_holds():
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_no_module_is_longer_than_one_sitting():
    long = [f"{path.relative_to(ROOT)}: {n} lines" for path, _ in _modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, "\n".join(long)


def _source(name):
    """The file of dotted textrnn module `name`, or None."""
    path = PACKAGE.parent / (name.replace(".", "/") + ".py")
    package = PACKAGE.parent / name.replace(".", "/") / "__init__.py"
    return path if path.exists() else package if package.exists() else None


def _closure(module):
    """Every textrnn module `module` imports, at any depth, in functions too
    (`from textrnn.a import b` counts textrnn.a.b when b is a module)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = _source(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textrnn"):
                todo.append(node.module)
                todo += [f"{node.module}.{a.name}" for a in node.names
                         if _source(f"{node.module}.{a.name}")]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("textrnn")]
    return seen


def test_serving_a_saved_model_imports_no_training_code():
    """textrnn-predict and textrnn-serve read the SavedModel's layout from
    util/saved_model.py: nothing of the training stage comes with them."""
    for entry in ("textrnn.predict", "textrnn.serve", "textrnn.serving.inference"):
        training = sorted(m for m in _closure(entry) if m.startswith("textrnn.training"))
        assert not training, f"{entry} imports {training}"
    assert "textrnn.training.metrics" in _closure("textrnn.evaluate")  # the check sees
