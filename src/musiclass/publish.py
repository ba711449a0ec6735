"""Execute, clean and publish the numbered notebooks.

:func:`run_notebooks` executes a task's notebooks in order with papermill (``musiclass demo`` and
the tests use it); :func:`clean_outputs` and :func:`label_run` make an executed notebook fit to
commit; :func:`publish_run` copies a finished run into the repository (the notebooks over the
committed ones, the README's figures into ``images/``, the report to ``report.pdf``).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .layout import (
    NOTEBOOKS,
    README_IMAGES,
    RESULT_FOLDERS,
    TASK_FOLDERS,
    RunFolder,
    repo_root,
)


def notebook_paths(task: str, root: str | Path | None = None) -> list[Path]:
    """List a task's committed notebooks, in the order they run.

    Parameters
    ----------
    task : str
        ``"genre"`` or ``"mood"``.
    root : str or pathlib.Path, optional
        The repository (default: :func:`musiclass.layout.repo_root`, else the working directory).

    Returns
    -------
    list of pathlib.Path
        ``<task folder>/code/<name>.ipynb`` for each name of :data:`musiclass.layout.NOTEBOOKS`.
    """
    root = Path(root) if root else (repo_root() or Path.cwd())
    return [root / TASK_FOLDERS[task] / "code" / f"{name}.ipynb" for name in NOTEBOOKS[task]]


def execute(
    path: str | Path,
    parameters: dict[str, Any],
    output: str | Path,
    *,
    root: str | Path | None = None,
    timeout: int | None = None,
    log_output: bool = False,
) -> Path:
    """Run one notebook with papermill into ``output``; the kernel starts in the notebook's folder.

    Parameters
    ----------
    path : str or pathlib.Path
        The notebook.
    parameters : dict
        Values that override those of its ``parameters`` cell.
    output : str or pathlib.Path
        The executed notebook; its folder is created when missing.
    root : str or pathlib.Path, optional
        The repository; not used by the execution itself (the kernel starts in the notebook's
        folder).
    timeout : int, optional
        Seconds a cell may run (default: no limit).
    log_output : bool, default=False
        Whether to log the cells' outputs while they run.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    papermill.PapermillExecutionError
        On any error in a cell, naming the failing cell.
    """
    import papermill as pm  # papermill and its kernel machinery: only when notebooks run

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the kernels inherit it: no C++ log lines
    # absolute paths, and the kernel started in the notebook's folder by nbclient
    # (``resources``) rather than papermill's ``cwd``, which changes the whole process's working
    # directory: with two chains in threads (the demo) one thread's chdir moved the other's
    # relative output and kernel folder
    path, output = Path(path).resolve(), Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(path),
        str(output),
        parameters=parameters,
        resources={"metadata": {"path": str(path.parent)}},
        kernel_name="python3",
        progress_bar=False,
        log_output=log_output,
        execution_timeout=timeout,
        request_save_on_cell_execute=False,
    )
    label_run(output, describe_run(parameters))  # not the committed run's label: this run's
    return output


def describe_run(parameters: dict[str, Any]) -> str:
    """The first-cell label of a notebook executed with ``parameters``: which data, profile, preset.

    Parameters
    ----------
    parameters : dict
        The notebook's parameters (``dataset``, ``profile``, ``preset``, ``seed``; a missing one
        is the notebooks' default).

    Returns
    -------
    str
        Markdown: the data (the embedded synthetic set, or the real data's folder), the profile,
        the preset and the date of the execution.
    """
    dataset = str(parameters.get("dataset", "synthetic"))
    data = (
        f"the embedded SYNTHETIC data (seed {parameters.get('seed', 0)}); synthetic genres and "
        "tags test the pipeline end to end, they are not results on GTZAN or MTG-Jamendo"
        if dataset == "synthetic"
        else f"the data in `{dataset}`"
    )
    return (
        f"**These outputs come from a `{parameters.get('profile', 'quick')}` profile run "
        f"(preset `{parameters.get('preset', 'default')}`, executed {time.strftime('%Y-%m-%d')}) "
        f"on {data}.**"
    )


#: absolute paths that must not end up in committed notebook outputs
_ABSOLUTE = re.compile(r"(/(?:home|root|tmp|work|Users|usr|opt|content|private|var)/[^\s'\"]*)")


def clean_outputs(path: str | Path, root: str | Path) -> int:
    """Make an executed notebook fit to commit, in place.

    Machine paths are replaced by repository-relative ones (``<env>/...`` for installed packages),
    stderr warnings dropped, consecutive stdout outputs merged, execution counts kept, and the
    per-run timings of papermill's metadata dropped, so publishing the same run twice gives the same
    file.

    Parameters
    ----------
    path : str or pathlib.Path
        The executed notebook; it is rewritten.
    root : str or pathlib.Path
        The repository: paths inside it become relative to it.

    Returns
    -------
    int
        The number of replacements (outputs whose text changed).
    """
    import nbformat

    root = str(Path(root).resolve())
    nb = nbformat.read(str(path), as_version=4)
    count = 0

    def fix(text: str) -> str:  # a closure, not API; numpydoc ignore=GL08
        nonlocal count
        new = text.replace(root + "/", "").replace(root, ".")

        def env(m: re.Match) -> str:  # a closure, not API; numpydoc ignore=GL08
            p = m.group(1)
            i = p.find("site-packages/")
            return "<env>/" + p[i + len("site-packages/") :] if i >= 0 else "<path>"

        new = _ABSOLUTE.sub(env, new)
        count += new != text
        return new

    for cell in nb.cells:
        # timings and paths that change on every run: a re-run of the same run gives the same file
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue  # progress bars and library warnings: not results
            if "text" in output:
                output["text"] = fix(
                    "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                )
            for key, value in list(output.get("data", {}).items()):
                if key.startswith("text/"):
                    output["data"][key] = fix("".join(value) if isinstance(value, list) else value)
            if output.get("output_type") == "error":
                output["traceback"] = [fix(t) for t in output.get("traceback", [])]
            kept.append(output)
        cell["outputs"] = kept
    # one stdout output per run of prints: how a kernel splits a cell's prints into stream outputs
    # depends on flush timing, so the same run would otherwise give different files
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    if "papermill" in nb.metadata:  # keep what it was run with, not when, where or for how long
        nb.metadata["papermill"] = {"parameters": nb.metadata["papermill"].get("parameters", {})}
    nbformat.write(nb, str(path))
    return count


def label_run(path: str | Path, text: str) -> None:
    """Write ``text`` into the notebook's first (markdown) cell between the run-label markers.

    The markers are ``<!-- run-label -->`` and ``<!-- /run-label -->``: the text between them is
    replaced, or, when the cell has none, they are appended with the text to the cell.

    Parameters
    ----------
    path : str or pathlib.Path
        The notebook; it is rewritten.
    text : str
        The label (Markdown).
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cell = nb.cells[0]
    start, end = "<!-- run-label -->", "<!-- /run-label -->"
    block = f"{start}\n{text}\n{end}"
    if start in cell.source and end in cell.source:
        cell.source = re.sub(
            re.escape(start) + r".*?" + re.escape(end), lambda m: block, cell.source, flags=re.S
        )
    else:
        cell.source = cell.source.rstrip() + "\n\n" + block
    nbformat.write(nb, str(path))


def run_notebooks(
    task: str,
    parameters: dict[str, Any],
    out_dir: str | Path,
    *,
    root: str | Path | None = None,
    names: Sequence[str] | None = None,
    echo=print,
    log_output: bool = False,
) -> list[Path]:
    """Execute a task's notebooks in order into ``out_dir`` (stop at the first failing cell).

    Parameters
    ----------
    task : str
        ``"genre"`` or ``"mood"``.
    parameters : dict
        The values given to every notebook's ``parameters`` cell (:func:`execute`).
    out_dir : str or pathlib.Path
        Where the executed notebooks go, under their own file names.
    root : str or pathlib.Path, optional
        The repository the notebooks are read from (:func:`notebook_paths`).
    names : sequence of str, optional
        Only the notebooks with these names (file names without ``.ipynb``); default: all.
    echo : callable, default=print
        Called with one line per notebook: its name, the seconds it took and where it went.
    log_output : bool, default=False
        Whether to log the cells' outputs while they run.

    Returns
    -------
    list of pathlib.Path
        The executed notebooks, in the order they ran.

    Raises
    ------
    papermill.PapermillExecutionError
        At the first failing cell, naming it.
    """
    written = []
    for path in notebook_paths(task, root):
        if names and path.stem not in names:
            continue
        t = time.perf_counter()
        target = Path(out_dir) / path.name
        execute(path, parameters, target, root=root, log_output=log_output)
        echo(
            f"   {TASK_FOLDERS[task]}/code/{path.name}: {time.perf_counter() - t:.0f} s -> {target}"
        )
        written.append(target)
    return written


def training_seconds(out: str | Path) -> float:
    """Add up the seconds spent fitting every model of a run (networks and classical baselines).

    Each model is counted once however many experiments report it; the times are read from the
    studies' ``results.csv``.

    Parameters
    ----------
    out : str or pathlib.Path
        The run folder.

    Returns
    -------
    float
        The seconds; 0 when neither study has a ``results.csv``.
    """

    total = 0.0
    for task in ("genre", "mood"):
        path = RunFolder(out).study(task).results
        if path.is_file():
            table = pd.read_csv(path)
            total += float(table.drop_duplicates("source")["seconds"].fillna(0).sum())
    return total


def publish_run(
    out: str | Path, root: str | Path, summary: dict[str, Any], *, echo=print
) -> list[str]:
    """Copy a finished run into the repository.

    The executed notebooks (machine paths removed, labelled with the run) go over the committed
    ones, the README's figures into ``images/`` and the report to ``report.pdf``.

    Parameters
    ----------
    out : str or pathlib.Path
        The finished run folder.
    root : str or pathlib.Path
        The repository.
    summary : dict
        The run's ``summary.json`` (:func:`musiclass.demo.run_demo`): ``profile`` and ``jobs`` for
        the label, ``notebooks`` (task to executed notebooks) and ``report`` (the PDF, if any).
    echo : callable, default=print
        Called with one line: the count of files published.

    Returns
    -------
    list of str
        The paths written, relative to ``root``.
    """
    out, root = Path(out), Path(root)
    minutes = training_seconds(out) / 60
    took = f"{minutes:.0f} min" if minutes >= 1 else "under a minute"
    label = (
        f"**These outputs come from a `{summary.get('profile')}` profile run on the embedded SYNTHETIC data** "
        f"(`make run PROFILE={summary.get('profile')}`, {time.strftime('%Y-%m-%d')}; its models trained in "
        f"{took} in all on {summary.get('jobs')} CPU cores). Synthetic genres and tags test the pipeline end "
        f"to end; they are not results on GTZAN or MTG-Jamendo. Set `dataset` to your copy of the real data "
        f"for those."
    )
    written = []
    for task, paths in summary.get("notebooks", {}).items():
        for p in paths:
            target = root / TASK_FOLDERS[task] / "code" / Path(p).name
            shutil.copyfile(p, target)
            clean_outputs(target, root)
            label_run(target, label)
            written.append(target)
    images = root / "images"  # the README's figures
    images.mkdir(exist_ok=True)
    for task, name, image in README_IMAGES:
        src = root / RESULT_FOLDERS[task] / name
        if src.is_file():
            shutil.copyfile(src, images / image)
            written.append(images / image)
    if summary.get("report"):
        shutil.copyfile(summary["report"], root / RunFolder.REPORT)
        written.append(root / RunFolder.REPORT)
    echo(f"published {len(written)} files into {root}")
    return [str(Path(w).relative_to(root)) for w in written]
