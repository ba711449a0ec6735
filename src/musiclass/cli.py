"""The ``musiclass`` command line: one sub-command per stage, plus ``demo`` for the whole job.

Exit status: 0 success; 1 an error (printed as ``error: ...``); 2 bad usage; 3 the stage finished
but some tracks failed (they are listed, and written to the store's ``failures.csv``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import ConfigError, MusiclassError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def _parse_value(text: str):
    import yaml

    return yaml.safe_load(text)


def _overrides(pairs: list[str] | None) -> dict:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = _parse_value(value)
    return out


# ---------------------------------------------------------------------------- commands
def cmd_synth(args) -> int:
    from .pipeline import synthesize

    which = {"all": ("gtzan", "mtg-jamendo"), "gtzan": ("gtzan",), "mood": ("mtg-jamendo",)}[args.only]
    paths = synthesize(args.out, clips_per_genre=args.clips_per_genre, mood_tracks=args.mood_tracks,
                       seed=args.seed, jobs=args.jobs, progress=not args.quiet, which=which)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return EXIT_OK


def cmd_index(args) -> int:
    from .pipeline import index_gtzan, index_jamendo

    out = Path(args.out)
    if args.dataset == "gtzan":
        idx = index_gtzan(args.root, out, check=args.check or "header", expect_full=args.expect_full,
                          min_duration=args.min_duration, progress=not args.quiet)
    else:
        idx = index_jamendo(args.root, out, metadata=args.metadata, curation=args.curation,
                            check=args.check or "exists", split=args.split, progress=not args.quiet)
    print(f"{len(idx)} tracks, {len(idx.classes)} classes -> {out}")
    if len(idx.problems):
        counts = idx.problems["problem"].value_counts().to_dict()
        print(f"{len(idx.problems)} problem(s) {counts}, listed in {out / 'problems.csv'}:")
        for row in idx.problems.head(10).itertuples():
            print(f"  {row.problem:8s} {row.path}: {row.reason}")
    return EXIT_OK


def cmd_extract(args) -> int:
    from .datasets.base import TrackIndex
    from .features.extract import extract
    from .pipeline import frontend_config

    overrides = _overrides(args.set)  # bad usage first, before any file is read
    idx = TrackIndex.load(args.index)
    task = args.task or ("mood" if idx.multilabel else "genre")
    config = frontend_config(task, args.preset, args.config, overrides)
    report = extract(idx, config, args.out, jobs=args.jobs or _jobs(), progress=not args.quiet,
                     force=args.force)
    print(report.summary())
    return EXIT_PARTIAL if report.failed else EXIT_OK


def cmd_split(args) -> int:
    from .features.store import FeatureStore
    from .pipeline import make_splits

    store = FeatureStore(args.store)
    official = {"splits_dir": args.splits_dir, "split": args.official_split} if args.splits_dir else None
    if args.method == "official" and official is None:
        raise ConfigError("--method official needs --splits-dir (the folder holding split-0 ... split-4)")
    res = make_splits(store, (args.method,), seed=args.seed, fractions=tuple(args.fractions), official=official)
    r = res[args.method]
    print(f"{args.method} split -> {r['file']}")
    print(f"tracks per part: {r['tracks']}; frames per part: {r['frames']}")
    print(f"tracks with frames in several parts: {r['tracks_in_several_parts']}")
    print("leak: " + ", ".join(f"{k} {v:.3g}" for k, v in r["leak"].items()))
    for note in r["notes"]:
        print(f"note: {note}")
    return EXIT_OK


def cmd_info(args) -> int:
    from .features.store import FeatureStore

    store = FeatureStore(args.store)
    if args.json:
        print(json.dumps(store.manifest, indent=2))
    else:
        print(store.summary())
    return EXIT_OK


def cmd_demo(args) -> int:
    from .pipeline import run_demo

    summary = run_demo(args.out, jobs=args.jobs, preset=args.preset, clips_per_genre=args.clips_per_genre,
                       mood_tracks=args.mood_tracks, seed=args.seed, progress=not args.quiet)
    failed = summary["genre"]["failed"] + summary["mood"]["failed"]
    return EXIT_PARTIAL if failed else EXIT_OK


def _jobs() -> int:
    from .pipeline import default_jobs

    return default_jobs()


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="musiclass",
        description="Reproducible music genre classification (GTZAN) and mood tagging (MTG-Jamendo).",
        epilog="Run `musiclass demo` for the whole job on the embedded synthetic data.")
    p.add_argument("--version", action="version", version=f"musiclass {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log every skipped or failed item")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp):
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
        sp.add_argument("-j", "--jobs", type=int, default=None,
                        help="worker processes (default: every CPU this process may use)")

    s = sub.add_parser("demo", help="synthesise, index, extract and split the embedded default data")
    s.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    s.add_argument("--preset", choices=("default", "seed"), default="default")
    s.add_argument("--clips-per-genre", type=int, default=20, help="synthetic GTZAN clips per genre (1-100)")
    s.add_argument("--mood-tracks", type=int, default=None, help="synthetic MTG-Jamendo tracks")
    s.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    common(s)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("synth", help="write the synthetic GTZAN- and MTG-Jamendo-shaped sets")
    s.add_argument("--out", default="runs/demo/data", help="folder receiving gtzan/ and mtg-jamendo/")
    s.add_argument("--only", choices=("all", "gtzan", "mood"), default="all")
    s.add_argument("--clips-per-genre", type=int, default=20)
    s.add_argument("--mood-tracks", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)
    common(s)
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("index", help="index a GTZAN tree or an MTG-Jamendo metadata file into a track table")
    s.add_argument("dataset", choices=("gtzan", "jamendo"))
    s.add_argument("root", help="GTZAN: the dataset folder; jamendo: the audio root (holding 00/ .. 99/)")
    s.add_argument("--out", required=True, help="folder receiving tracks.csv, tracks.json, problems.csv")
    s.add_argument("--check", choices=("none", "exists", "header", "decode"), default=None,
                   help="how far each file is verified (gtzan default: header; jamendo default: exists)")
    s.add_argument("--expect-full", action="store_true", help="gtzan: report which of the 1000 clips are missing")
    s.add_argument("--min-duration", type=float, default=29.0, help="gtzan: report clips shorter than this (s)")
    s.add_argument("--metadata", help="jamendo: the TSV (default: ROOT/autotagging_moodtheme.tsv)")
    s.add_argument("--curation", choices=("official", "none", "original"), default="official",
                   help="jamendo tags: official 56 (default), all 59, or the original study's curation")
    s.add_argument("--split", type=int, default=None, help="jamendo: keep only the tracks of official split K")
    s.add_argument("-q", "--quiet", action="store_true")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("extract", help="compute spectrogram / mel / MFCC frames and descriptors into a store")
    s.add_argument("index", help="a folder written by `musiclass index`")
    s.add_argument("--out", required=True, help="the feature store folder")
    s.add_argument("--task", choices=("genre", "mood"), default=None, help="default: mood for multi-label data")
    s.add_argument("--preset", choices=("default", "seed"), default="default")
    s.add_argument("--config", help="YAML file with a `frontend:` section (overrides the preset)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one frontend value")
    s.add_argument("--force", action="store_true", help="rebuild a store made from another config")
    common(s)
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("split", help="assign tracks (or, under seed, frames) to train/validation/test")
    s.add_argument("store", help="a feature store folder")
    s.add_argument("--method", choices=("song", "artist", "seed-frame", "gtzan-filtered", "gtzan-stratified", "official"),
                   default="song",
                   help="song: stratified by label (default); artist: no artist in two parts; seed-frame: the "
                        "original study's random split of frames, which leaks songs (to measure that leak); "
                        "gtzan-*: the published GTZAN lists; official: the MTG-Jamendo split files")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--fractions", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"))
    s.add_argument("--splits-dir", help="official: the MTG-Jamendo splits folder")
    s.add_argument("--official-split", type=int, default=0)
    s.set_defaults(func=cmd_split)

    s = sub.add_parser("info", help="describe a feature store")
    s.add_argument("store")
    s.add_argument("--json", action="store_true", help="print the manifest")
    s.set_defaults(func=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except MusiclassError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
