"""Spectral frontend: one STFT per track (or per frame, under ``seed``) -> spectrogram, mel, MFCC.

For a decoded mono track the frontend

1. trims ``trim_start``/``trim_end`` seconds from tracks lasting at least ``trim_min_duration``;
2. places frames of ``frame_length`` samples every ``frame_hop`` samples, keeps every frame that
   is at least ``min_fill`` audio (at most ``max_frames``), and zero-pads the audio so the last
   kept frame is complete (never ``ndarray.resize``, which shears rows);
3. computes the STFT once: of the whole track (``stft="track"``; frames are column slices of it,
   which needs ``frame_hop`` to be a multiple of ``hop_length``) or, under ``stft="frame"``, of
   every frame on its own in one batched call (what the original did, which the ``seed`` preset
   must reproduce because its frame starts are not on STFT hops);
4. derives every representation from that one power spectrogram ``P = |STFT|^2``:

   * ``spectrogram``: ``librosa.amplitude_to_db(|STFT|, ref=np.max)`` of the frame, shape
     ``(1 + n_fft // 2, n_columns)``
   * ``mel``: ``librosa.power_to_db(mel_basis @ P, ref=np.max)`` of the frame, ``(n_mels, n_columns)``
   * ``mfcc``: ``librosa.feature.mfcc(S=librosa.power_to_db(mel_basis @ P))`` of the frame,
     ``(n_mfcc, n_columns)``

   "of the frame" means the dB reference (the maximum) and the ``top_db`` floor are those of each
   frame, exactly as if the librosa function had been called on that frame alone. Because the dB
   values of overlapping frames are computed once per track, the logarithm is taken once per
   STFT column, not once per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import librosa
import numpy as np
import scipy.sparse

from ..config import FrontendConfig
from ..errors import ConfigError

#: power floor of :func:`librosa.power_to_db` (and ``amin**2`` of :func:`librosa.amplitude_to_db`)
AMIN_POWER = 1e-10


@dataclass
class Frames:
    """The output of :meth:`Frontend.compute` for one track.

    ``len(frames)`` is the number of frames.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        Representation name -> float32 array ``(n_frames, rows, n_columns)``, in the order of the
        config's ``representations``.
    starts : numpy.ndarray of shape (n_frames,)
        Start of each frame in seconds from the start of the (untrimmed) track (float64).
    fill : numpy.ndarray of shape (n_frames,)
        Fraction of each frame that is audio rather than zero padding, in (0, 1] (float64).
    """

    #: representation name -> float32 array ``(n_frames, rows, n_columns)``
    arrays: dict[str, np.ndarray]
    #: start of each frame in seconds from the start of the (untrimmed) track
    starts: np.ndarray
    #: fraction of each frame that is audio rather than zero padding, in (0, 1]
    fill: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


class Frontend:
    """Compute the configured representations for one track at a time.

    Cheap to call repeatedly: the mel filterbank and window are built once per instance. Calling
    the instance is :meth:`compute`.

    Parameters
    ----------
    config : FrontendConfig
        The frontend; validated here.

    Attributes
    ----------
    config : FrontendConfig
        The frontend configuration.
    mel_basis : numpy.ndarray of shape (n_mels, 1 + n_fft // 2)
        The float32 mel filterbank (:func:`librosa.filters.mel` of the config).

    Raises
    ------
    musiclass.errors.ConfigError
        When ``config`` is invalid (see :meth:`~musiclass.config.FrontendConfig.validate`).

    Examples
    --------
    >>> import numpy as np
    >>> from musiclass.config import frontend_preset
    >>> from musiclass.features.frontend import Frontend
    >>> frontend = Frontend(frontend_preset("genre"))
    >>> y = 0.1 * np.random.default_rng(0).standard_normal(30 * 22050).astype(np.float32)
    >>> frames = frontend(y)
    >>> len(frames), frames.arrays["mel"].shape
    (19, (19, 128, 130))
    >>> frames.starts[:3].round(3).tolist()
    [0.0, 1.486, 2.972]
    """

    def __init__(self, config: FrontendConfig):
        config.validate()
        self.config = config
        self.mel_basis = librosa.filters.mel(
            sr=config.sample_rate,
            n_fft=config.n_fft,
            n_mels=config.n_mels,
            fmin=config.fmin,
            fmax=config.fmax,
            dtype=np.float32,
        )
        self._mel_sparse = scipy.sparse.csr_matrix(self.mel_basis)
        self._need_mel = bool({"mel", "mfcc"} & set(config.representations))

    # ------------------------------------------------------------------ framing
    def trim_bounds(self, n_samples: int) -> tuple[int, int]:
        """Return ``(start, stop)`` sample indices of the part of a track that is framed.

        A track of at least ``trim_min_duration`` seconds loses ``trim_start`` seconds at the start
        and ``trim_end`` at the end; shorter tracks are framed whole.

        Parameters
        ----------
        n_samples : int
            Length of the decoded track, in samples at ``config.sample_rate``.

        Returns
        -------
        start : int
            First sample framed.
        stop : int
            One past the last sample framed.
        """
        c = self.config
        sr = c.sample_rate
        if (c.trim_start or c.trim_end) and n_samples >= int(round(c.trim_min_duration * sr)):
            return int(round(c.trim_start * sr)), n_samples - int(round(c.trim_end * sr))
        return 0, n_samples

    def n_frames(self, n_samples: int) -> int:
        """How many frames a (trimmed) signal of ``n_samples`` yields (0 when empty).

        Every frame that holds at least ``min_fill`` of a frame of audio is kept, at most
        ``max_frames``; a signal shorter than that gives one (zero-padded) frame.

        Parameters
        ----------
        n_samples : int
            Length of the trimmed signal, in samples.

        Returns
        -------
        int
            The number of frames.
        """
        if n_samples <= 0:
            return 0
        c = self.config
        L, H = c.frame_length, c.frame_hop
        need = int(math.ceil(c.min_fill * L))  # audio samples a kept frame must hold
        n = 1 if n_samples < need else (n_samples - need) // H + 1
        return n if c.max_frames is None else min(n, c.max_frames)

    # ------------------------------------------------------------------ main entry
    def compute(self, y: np.ndarray) -> Frames:
        """All configured representations of the mono signal ``y`` (at ``config.sample_rate``).

        The track is trimmed (:meth:`trim_bounds`), framed (:meth:`n_frames`) and transformed as the
        module docstring describes.

        Parameters
        ----------
        y : numpy.ndarray of shape (n_samples,)
            The decoded mono signal (converted to float32).

        Returns
        -------
        Frames
            The arrays, frame starts and fill of the track.

        Raises
        ------
        musiclass.errors.ConfigError
            When ``y`` is not 1-D (not a mono signal).
        ValueError
            When no audio is left to frame (an empty signal after trimming).
        """
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1:
            raise ConfigError(f"the frontend expects a mono signal, got shape {y.shape}")
        c = self.config
        lo, hi = self.trim_bounds(len(y))
        y = y[lo:hi]
        n = self.n_frames(len(y))
        if n == 0:
            raise ValueError("no audio left to frame (empty signal after trimming)")
        L, H = c.frame_length, c.frame_hop
        starts = np.arange(n) * H
        fill = np.clip((len(y) - starts) / L, 0.0, 1.0)
        if c.stft == "frame":
            power = self._frame_power(y, n)  # (n, bins, cols)
            frame_view = None
        else:
            power, frame_view = self._track_power(y, n)  # (bins, T), slicer
        arrays = self._representations(power, frame_view, n)
        start_s = (starts + lo) / c.sample_rate
        return Frames(
            arrays=arrays, starts=start_s.astype(np.float64), fill=fill.astype(np.float64)
        )

    __call__ = compute

    # ------------------------------------------------------------------ STFT variants
    def _stft_power(self, y: np.ndarray) -> np.ndarray:
        """``|STFT|^2`` as a C-contiguous float32 array (librosa returns Fortran order)."""
        c = self.config
        D = librosa.stft(
            y,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            window=c.window,
            center=c.center,
            pad_mode=c.pad_mode,
        )
        # |D|**2 as librosa forms it (abs, then square), in D's own memory order, and one
        # reordering copy at the end: ~2x faster than writing C order while reading Fortran order
        P = np.abs(D)
        P *= P
        return np.ascontiguousarray(P)

    def _frame_power(self, y: np.ndarray, n: int) -> np.ndarray:
        """One batched STFT over all frames: ``(n, bins, n_columns)``."""
        c = self.config
        L, H = c.frame_length, c.frame_hop
        total = (n - 1) * H + L
        if len(y) < total:
            y = np.pad(y, (0, total - len(y)))
        frames = librosa.util.frame(y[:total], frame_length=L, hop_length=H, axis=0)[:n]
        P = self._stft_power(frames)  # a strided view: librosa pads (copies) it anyway
        return P if P.shape[-1] == c.n_columns else np.ascontiguousarray(P[..., : c.n_columns])

    def track_stft_input(self, y: np.ndarray, n: int) -> tuple[np.ndarray, int]:
        """Return what the one STFT of a (trimmed) track of ``n`` frames is taken of, under ``stft="track"``.

        The track is cut up to ``n_fft / 2`` samples after the last needed column's centre, or
        zero-padded up to that centre. (The frontend layer cuts its input rows from the same signal.)

        Parameters
        ----------
        y : numpy.ndarray of shape (n_samples,)
            The trimmed mono signal.
        n : int
            The number of frames it gives (:meth:`n_frames`).

        Returns
        -------
        signal : numpy.ndarray
            The samples the STFT is taken of.
        cols : int
            How many of its STFT columns the frames use.
        """
        c = self.config
        cols = (n - 1) * (c.frame_hop // c.hop_length) + c.n_columns  # STFT columns the frames need
        need = (cols - 1) * c.hop_length  # a centred STFT of this many samples has `cols` columns
        y = y[: need + c.n_fft // 2]
        if len(y) < need:
            y = np.pad(y, (0, need - len(y)))
        return y, cols

    def _track_power(self, y: np.ndarray, n: int):
        """One STFT of the whole track, and a function slicing ``(bins, T)`` arrays into frames."""
        c = self.config
        hop_cols = c.frame_hop // c.hop_length
        y, cols = self.track_stft_input(y, n)
        P = self._stft_power(y)[:, :cols]

        def frame_view(a: np.ndarray) -> np.ndarray:
            # (rows, T) -> (n, rows, n_columns) strided view (no copy)
            v = librosa.util.frame(a, frame_length=c.n_columns, hop_length=hop_cols, axis=-1)
            return np.moveaxis(v, -1, 0)[:n]

        return P, frame_view

    # ------------------------------------------------------------------ mel, dB and MFCC
    def _mel(self, power: np.ndarray) -> np.ndarray:
        """``mel_basis @ power`` over the frequency axis (-2), through the sparse filterbank.

        Each STFT bin feeds at most two triangular filters, so the sparse product does ~1/60 of the
        dense one's work; the result equals ``librosa.feature.melspectrogram``'s up to float
        rounding.
        """
        if power.ndim == 2:
            return np.asarray(self._mel_sparse @ power, dtype=np.float32)
        return np.stack([self._mel_sparse @ p for p in power]).astype(np.float32, copy=False)

    def _representations(self, power: np.ndarray, frame_view, n: int) -> dict[str, np.ndarray]:
        c = self.config
        reps = c.representations
        out: dict[str, np.ndarray] = {}
        # frame mode: arrays are already (n, rows, cols) and ours to overwrite;
        # track mode: frames are overlapping views of (rows, T) arrays and must be copied out
        view = frame_view if frame_view is not None else (lambda a: a)
        owned = frame_view is None
        if self._need_mel:
            mel_db = _log_power(self._mel(power))
            mel_rel, frame_max = _relative_db(view(mel_db), c.top_db, inplace=owned)
            if "mfcc" in reps:
                # librosa.feature.mfcc(y=frame) takes the DCT of power_to_db(mel, ref=1.0, top_db):
                # the frame's relative dB shifted back by the frame's maximum.
                out["mfcc"] = np.ascontiguousarray(
                    librosa.feature.mfcc(S=mel_rel + frame_max, n_mfcc=c.n_mfcc), dtype=np.float32
                )
            if "mel" in reps:
                out["mel"] = mel_rel
        if "spectrogram" in reps:  # last: the power array is turned into dB in place
            spec_db = _log_power(power)
            out["spectrogram"] = _relative_db(view(spec_db), c.top_db, inplace=owned)[0]
        return {k: out[k] for k in reps}


def _log_power(power: np.ndarray) -> np.ndarray:
    """``10 log10(max(amin, power))``, the formula of :func:`librosa.power_to_db` with ``ref=1``
    and no floor, computed in place (these arrays are the frontend's largest): returns ``power``."""
    np.maximum(power, AMIN_POWER, out=power)
    np.log10(power, out=power)
    power *= 10.0
    return power


def _relative_db(db: np.ndarray, top_db: float | None, inplace: bool = False):
    """Per frame (first axis): subtract the frame maximum, floor at ``-top_db``.

    Equals ``librosa.power_to_db(S_frame, ref=np.max, top_db=top_db)`` computed frame by frame
    (the maximum of the log is the log of the maximum). Returns a C-contiguous float32 array
    (``db`` itself when ``inplace``) and the per-frame maxima, shape ``(n, 1, 1)``.
    """
    frame_max = db.max(axis=(-2, -1), keepdims=True)
    rel = np.subtract(db, frame_max, out=db if inplace else None, dtype=np.float32, order="C")
    if top_db is not None:
        np.maximum(rel, -float(top_db), out=rel)
    return rel, frame_max
