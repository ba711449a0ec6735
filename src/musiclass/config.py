"""Typed configuration and the two protocol presets.

``seed``
    reproduces the original 2020 study exactly (see ``docs/protocol.md``, "The original study").
``default``
    our protocol: the same spectral parameters where they were sound, with the mistakes fixed and
    the slow parts made fast (see ``docs/protocol.md``, "What our protocol fixes"). Differences
    from ``seed``:

    * genre frames start on STFT hops (every 64 hops = 1.486 s instead of 1.5 s) so one STFT of the
      whole track is computed once and sliced, instead of one STFT per overlapping frame;
      edges are zero-padded (``pad_mode="constant"``, librosa's own default since 0.10);
    * only full frames are kept (a 30 s clip still gives 19 frames); a track shorter than one
      frame gives one zero-padded frame;
    * mood frames are exactly 341 STFT columns (29.1 s at 12 kHz), never resized.

A config is a frozen dataclass: ``FrontendConfig.from_dict(d)`` validates it, ``.to_dict()``
gives back plain JSON, and ``.hash()`` names it in the feature store.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scipy.signal

from .errors import ConfigError
from .utils import check_field_types, config_hash

REPRESENTATIONS = ("spectrogram", "mel", "mfcc")
TASKS = ("genre", "mood")
PRESETS = ("default", "seed")


@dataclass(frozen=True)
class FrontendConfig:
    """How audio becomes model inputs. All times in seconds, all rates in Hz.

    Spectral parameters follow :func:`librosa.stft` and :func:`librosa.filters.mel`; dB values
    are relative to the maximum of each frame and clipped ``top_db`` below it (range
    ``[-top_db, 0]``); MFCCs are the DCT-II (orthonormal) of the mel spectrogram in dB
    (``librosa.feature.mfcc``).

    The instance is frozen. Build one with :func:`frontend_preset` or :meth:`from_dict`, which
    validate it; the constructor alone does not (call :meth:`validate`).

    Attributes
    ----------
    sample_rate : int, default=22050
        Rate the audio is resampled to, in Hz.
    n_fft : int, default=1024
        FFT length in samples.
    hop_length : int, default=512
        STFT hop in samples.
    window : str, default="hann"
        STFT window (any name :func:`librosa.stft` accepts).
    center : bool, default=True
        Centre the STFT columns on their samples (pad ``n_fft // 2`` at both edges).
    pad_mode : {"constant", "reflect", "edge"}, default="constant"
        Edge padding of the centred STFT.
    n_mels : int, default=128
        Mel bands.
    fmin : float, default=0.0
        Lowest frequency of the mel filterbank, in Hz.
    fmax : float or None, default=None
        Highest frequency of the mel filterbank, in Hz; None means ``sample_rate / 2``.
    n_mfcc : int, default=20
        MFCC coefficients (at most ``n_mels``).
    top_db : float or None, default=80.0
        dB floor below each frame's maximum; None for no floor.
    representations : tuple of str, default=("spectrogram", "mel", "mfcc")
        What is computed and stored, among :data:`REPRESENTATIONS`.
    stft : {"track", "frame"}, default="track"
        "track": one STFT of the whole track, sliced into frames (frame hop rounded down to a
        multiple of ``hop_length``); "frame": one centred STFT per frame (the original's way).
    frame_seconds : float, default=3.0
        Frame length in seconds.
    hop_seconds : float, default=1.5
        Distance between frame starts in seconds (see :attr:`frame_hop`).
    frame_columns : int or None, default=None
        Fix the number of STFT columns per frame (crop); None = ``1 + frame_length // hop_length``.
    max_frames : int or None, default=None
        Keep at most this many frames per track (None: all).
    min_fill : float, default=1.0
        A partial last frame is kept (zero-padded) when at least this fraction of it is audio; in
        ``(0, 1]``.
    trim_start : float, default=0.0
        Seconds cut from the start of tracks lasting at least ``trim_min_duration``.
    trim_end : float, default=0.0
        Seconds cut from the end of tracks lasting at least ``trim_min_duration``.
    trim_min_duration : float, default=0.0
        Shortest track, in seconds, that is trimmed.
    min_duration : float, default=1.0
        Tracks shorter than this (after decoding, before trimming) are rejected as too short.
    handcrafted : bool, default=True
        Also compute the hand-crafted descriptor table (one row per track).
    dtype : {"float32", "float16"}, default="float32"
        Dtype of the stored arrays.

    See Also
    --------
    frontend_preset : The presets of both tasks.
    musiclass.features.frontend.Frontend : What computes the representations.

    Examples
    --------
    >>> from musiclass.config import FrontendConfig
    >>> cfg = FrontendConfig()
    >>> cfg.frame_length, cfg.frame_hop, cfg.n_columns
    (66150, 32768, 130)
    >>> cfg.shape("mel")
    (128, 130)
    >>> FrontendConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 512
    window: str = "hann"
    center: bool = True
    pad_mode: str = "constant"
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    n_mfcc: int = 20
    top_db: float | None = 80.0
    representations: tuple[str, ...] = REPRESENTATIONS
    #: "track": one STFT of the whole track, sliced into frames (frame hop rounded down to a
    #: multiple of ``hop_length``); "frame": one centred STFT per frame (the original's way).
    stft: str = "track"
    frame_seconds: float = 3.0
    hop_seconds: float = 1.5
    #: fix the number of STFT columns per frame (crop); None = ``1 + frame_length // hop_length``
    frame_columns: int | None = None
    #: keep at most this many frames per track (None: all)
    max_frames: int | None = None
    #: a partial last frame is kept (zero-padded) when at least this fraction of it is audio
    min_fill: float = 1.0
    #: seconds cut from the start and the end of tracks lasting at least ``trim_min_duration``
    trim_start: float = 0.0
    trim_end: float = 0.0
    trim_min_duration: float = 0.0
    #: tracks shorter than this (after decoding, before trimming) are rejected as too short
    min_duration: float = 1.0
    #: also compute the hand-crafted descriptor table (one row per track)
    handcrafted: bool = True
    #: dtype of the stored arrays
    dtype: str = "float32"

    # ------------------------------------------------------------------ derived values
    @property
    def frame_length(self) -> int:
        """Frame length in samples.

        Returns
        -------
        int
            ``round(frame_seconds * sample_rate)``.
        """
        return int(round(self.frame_seconds * self.sample_rate))

    @property
    def frame_hop(self) -> int:
        """Distance between frame starts in samples (a multiple of ``hop_length`` in track mode).

        Returns
        -------
        int
            ``round(hop_seconds * sample_rate)``; with ``stft="track"`` rounded down to a multiple of
            ``hop_length`` (at least one hop).
        """
        hop = int(round(self.hop_seconds * self.sample_rate))
        if self.stft == "track":
            hop = max(1, hop // self.hop_length) * self.hop_length
        return hop

    @property
    def n_columns(self) -> int:
        """STFT columns per frame.

        Returns
        -------
        int
            ``frame_columns`` when set, else ``1 + frame_length // hop_length``.
        """
        return self.frame_columns or 1 + self.frame_length // self.hop_length

    @property
    def n_bins(self) -> int:
        """Frequency bins of the STFT (rows of the spectrogram).

        Returns
        -------
        int
            ``1 + n_fft // 2``.
        """
        return 1 + self.n_fft // 2

    def shape(self, representation: str) -> tuple[int, int]:
        """Return ``(rows, columns)`` of one frame of ``representation``.

        Parameters
        ----------
        representation : {"spectrogram", "mel", "mfcc"}
            The representation.

        Returns
        -------
        tuple of (int, int)
            Rows (:attr:`n_bins`, ``n_mels`` or ``n_mfcc``) and columns (:attr:`n_columns`).

        Raises
        ------
        musiclass.errors.ConfigError
            For an unknown representation.
        """
        rows = {"spectrogram": self.n_bins, "mel": self.n_mels, "mfcc": self.n_mfcc}
        if representation not in rows:
            raise ConfigError(
                f"unknown representation {representation!r}; choose from {REPRESENTATIONS}"
            )
        return rows[representation], self.n_columns

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return every value as plain JSON types (``representations`` as a list).

        Returns
        -------
        dict
            Field name to value; :meth:`from_dict` turns it back into an equal config.
        """
        d = dataclasses.asdict(self)
        d["representations"] = list(self.representations)
        return d

    def hash(self) -> str:
        """Return a short stable hash of every value: the feature store's name for this config.

        Returns
        -------
        str
            12 hex digits (:func:`musiclass.utils.config_hash` of :meth:`to_dict`).
        """
        return config_hash(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrontendConfig:
        """Build a validated config from a mapping (the inverse of :meth:`to_dict`).

        Parameters
        ----------
        d : dict
            Option name to value. Options it lacks keep their defaults; ``representations`` may be one
            name or a sequence of names.

        Returns
        -------
        FrontendConfig
            The validated config.

        Raises
        ------
        musiclass.errors.ConfigError
            For an unknown option name (the message lists the known ones), or a value that
            :meth:`validate` rejects.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown frontend option(s) {unknown}; known: {sorted(known)}")
        d = dict(d)
        if "representations" in d:
            reps = d["representations"]
            if isinstance(reps, str):
                reps = (reps,)
            if not isinstance(reps, (list, tuple)) or not all(isinstance(r, str) for r in reps):
                raise ConfigError(
                    f"frontend option representations={reps!r}: must be a name or a list of names"
                    f" from {list(REPRESENTATIONS)}"
                )
            d["representations"] = tuple(reps)
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def replace(self, **changes: Any) -> FrontendConfig:
        """Return a validated copy with ``changes`` applied.

        Parameters
        ----------
        **changes : Any
            New values, by option name.

        Returns
        -------
        FrontendConfig
            The new config (this one is frozen and left unchanged).

        Raises
        ------
        musiclass.errors.ConfigError
            As :meth:`from_dict`.
        """
        return FrontendConfig.from_dict({**self.to_dict(), **changes})

    def validate(self) -> None:
        """Check every value; the first one that is wrong raises.

        Raises
        ------
        musiclass.errors.ConfigError
            Saying what is wrong: a non-positive rate, size or duration, not ``0 < n_mfcc <= n_mels``,
            not ``fmin < fmax <= sample_rate / 2``, an unknown ``stft``, ``pad_mode``, representation or
            ``dtype``, no or repeated representations, frames too short for reflect padding,
            ``frame_columns`` outside ``1 .. 1 + frame_length // hop_length``, ``max_frames < 1``,
            ``min_fill`` outside ``(0, 1]``, negative trims, a ``trim_min_duration`` below
            ``trim_start + trim_end``, or non-finite frame times.
        """

        def need(cond: bool, msg: str) -> None:  # a closure, not API; numpydoc ignore=GL08
            if not cond:
                raise ConfigError(msg)

        check_field_types(self, "frontend")  # types first: `n_mels=true`, `center=maybe`, "512"
        need(self.sample_rate > 0, "sample_rate must be positive")
        need(self.fmin >= 0, "fmin must be at least 0 Hz")
        try:
            scipy.signal.get_window(self.window, 8)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"window={self.window!r} is not a window scipy.signal.get_window knows ({exc})"
            ) from None
        need(self.n_fft > 0 and self.hop_length > 0, "n_fft and hop_length must be positive")
        need(self.n_mels > 0 and 0 < self.n_mfcc <= self.n_mels, "need 0 < n_mfcc <= n_mels")
        need(
            self.fmax is None or self.fmin < self.fmax <= self.sample_rate / 2,
            "need fmin < fmax <= sample_rate / 2",
        )
        need(self.top_db is None or self.top_db > 0, "top_db must be positive or null")
        need(self.stft in ("track", "frame"), "stft must be 'track' or 'frame'")
        need(
            self.pad_mode in ("constant", "reflect", "edge"),
            "pad_mode must be constant, reflect or edge",
        )
        need(len(self.representations) > 0, "at least one representation is needed")
        need(len(set(self.representations)) == len(self.representations), "representations repeat")
        for r in self.representations:
            need(
                r in REPRESENTATIONS, f"unknown representation {r!r}; choose from {REPRESENTATIONS}"
            )
        need(
            self.frame_seconds > 0 and self.hop_seconds > 0,
            "frame_seconds and hop_seconds must be positive",
        )
        need(
            self.frame_length >= self.n_fft // 2 + 1
            or not self.center
            or self.pad_mode != "reflect",
            "frames are too short for reflect padding: lengthen frame_seconds or lower n_fft",
        )
        need(
            self.frame_columns is None
            or 1 <= self.frame_columns <= 1 + self.frame_length // self.hop_length,
            "frame_columns must be between 1 and 1 + frame_length // hop_length",
        )
        need(
            self.max_frames is None or self.max_frames >= 1, "max_frames must be at least 1 or null"
        )
        need(0.0 < self.min_fill <= 1.0, "min_fill must be in (0, 1]")
        need(self.trim_start >= 0 and self.trim_end >= 0, "trims must be non-negative")
        need(
            self.trim_min_duration >= self.trim_start + self.trim_end,
            "trim_min_duration must be at least trim_start + trim_end",
        )
        need(self.min_duration > 0, "min_duration must be positive")
        need(self.dtype in ("float32", "float16"), "dtype must be float32 or float16")
        need(math.isfinite(self.frame_seconds * self.hop_seconds), "frame times must be finite")


_GENRE_SEED = FrontendConfig(
    sample_rate=22050,
    n_fft=1024,
    hop_length=512,
    pad_mode="reflect",
    n_mels=128,
    n_mfcc=20,
    top_db=80.0,
    stft="frame",
    frame_seconds=3.0,
    hop_seconds=1.5,
    max_frames=19,
    min_fill=0.5,
)
_GENRE_DEFAULT = FrontendConfig(
    sample_rate=22050,
    n_fft=1024,
    hop_length=512,
    pad_mode="constant",
    n_mels=128,
    n_mfcc=20,
    top_db=80.0,
    stft="track",
    frame_seconds=3.0,
    hop_seconds=1.5,
    min_fill=1.0,
)
_MOOD_SEED = FrontendConfig(
    sample_rate=12000,
    n_fft=2048,
    hop_length=1024,
    pad_mode="reflect",
    n_mels=96,
    n_mfcc=20,
    top_db=80.0,
    representations=("mel",),
    stft="frame",
    frame_seconds=29.1,
    hop_seconds=29.1,
    frame_columns=341,
    min_fill=1.0,
    trim_start=20.0,
    trim_end=20.0,
    trim_min_duration=69.1,
    min_duration=29.1,
)
_MOOD_DEFAULT = _MOOD_SEED.replace(pad_mode="constant", stft="track", min_duration=5.0)

_PRESETS = {
    ("genre", "seed"): _GENRE_SEED,
    ("genre", "default"): _GENRE_DEFAULT,
    ("mood", "seed"): _MOOD_SEED,
    ("mood", "default"): _MOOD_DEFAULT,
}


def frontend_preset(
    task: str = "genre", preset: str = "default", **overrides: Any
) -> FrontendConfig:
    """Return the frontend of ``task`` under ``preset``.

    Parameters
    ----------
    task : {"genre", "mood"}, default="genre"
        The task.
    preset : {"default", "seed"}, default="default"
        Our protocol, or the original study's.
    **overrides : Any
        Values that replace the preset's, by option name (see :class:`FrontendConfig`).

    Returns
    -------
    FrontendConfig
        The preset, validated, with the overrides applied.

    Raises
    ------
    musiclass.errors.ConfigError
        For an unknown task or preset, or an override that :meth:`FrontendConfig.from_dict`
        rejects.

    Examples
    --------
    >>> from musiclass.config import frontend_preset
    >>> cfg = frontend_preset("mood", "seed")
    >>> cfg.sample_rate, cfg.n_mels, cfg.frame_columns
    (12000, 96, 341)
    >>> frontend_preset("genre", n_mels=64).n_mels
    64
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose from {TASKS}")
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {PRESETS}")
    cfg = _PRESETS[(task, preset)]
    return cfg.replace(**overrides) if overrides else cfg


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a dict, with a clear error for malformed files.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file (UTF-8).

    Returns
    -------
    dict
        The mapping at the top level of the file; ``{}`` for an empty file.

    Raises
    ------
    musiclass.errors.ConfigError
        Naming the file, when it is not found, cannot be read, is not UTF-8 text, is not valid YAML,
        or does not hold a mapping at the top level.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: not a text file (not UTF-8): is it really a YAML config?"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def frontend_from_mapping(d: dict[str, Any] | None, task: str = "genre") -> FrontendConfig:
    """Build a validated :class:`FrontendConfig` from a config mapping.

    ``{"preset": "seed", "n_mels": 64, ...}`` -> the ``seed`` preset of ``task`` with ``n_mels=64``:
    the ``preset`` key picks the preset (``"default"`` when absent), every other key overrides one of
    its values.

    Parameters
    ----------
    d : dict or None
        The mapping (a config file's ``frontend`` section); None or empty gives the default preset.
    task : {"genre", "mood"}, default="genre"
        The task whose presets are used.

    Returns
    -------
    FrontendConfig
        The validated config.

    Raises
    ------
    musiclass.errors.ConfigError
        As :func:`frontend_preset`.

    Examples
    --------
    >>> from musiclass.config import frontend_from_mapping
    >>> cfg = frontend_from_mapping({"preset": "seed", "n_mels": 64})
    >>> cfg.stft, cfg.n_mels
    ('frame', 64)
    """
    d = dict(d or {})
    preset = d.pop("preset", "default")
    return frontend_preset(task, preset, **d)


__all__ = [
    "FrontendConfig",
    "frontend_preset",
    "frontend_from_mapping",
    "load_yaml",
    "REPRESENTATIONS",
    "TASKS",
    "PRESETS",
]


def frontend_config(
    task: str,
    preset: str = "default",
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> FrontendConfig:
    """A frontend config from a preset, then a YAML file's ``frontend:`` section, then overrides.

    Parameters
    ----------
    task : {"genre", "mood"}
        The task whose presets apply (a config file's ``task:`` key takes precedence).
    preset : {"default", "seed"}
        The preset to start from.
    config_file : str or Path, optional
        A YAML file holding a ``frontend:`` mapping (or the mapping itself at its top level).
    overrides : dict, optional
        ``FrontendConfig`` field values applied last (``--set key=value`` on the command line).

    Returns
    -------
    FrontendConfig
        The validated config.

    Raises
    ------
    ConfigError
        When the file cannot be read, its ``frontend`` section is not a mapping, or a value is
        invalid.
    """
    mapping: dict[str, Any] = {"preset": preset}
    if config_file:
        data = load_yaml(config_file)
        section = data.get("frontend", data)
        if not isinstance(section, dict):
            raise ConfigError(f"{config_file}: 'frontend' must be a mapping")
        task = data.get("task", task)
        mapping.update(section)
    mapping.update(overrides or {})
    return frontend_from_mapping(mapping, task=task)
