"""Audio decoding: one module, one error type.

Every format libsndfile reads (WAV, AU, FLAC, OGG/Vorbis, MP3, ...) is decoded through
:mod:`soundfile`; no ffmpeg or audioread is needed. Channels are averaged to mono with
:func:`librosa.to_mono` and the signal is resampled with :func:`librosa.resample` (``soxr_hq``),
so :func:`load` returns exactly what ``librosa.load(path, sr=sr)`` returns for the same file.

Anything unusable raises :class:`~musiclass.errors.AudioError` naming the file and the reason:
missing, not a regular file, undecodable, an implausible header (no header, a sample rate below
:data:`MIN_SAMPLE_RATE`), empty, non-finite samples, silent, or shorter than asked.
"""

from __future__ import annotations

import errno
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from .errors import AudioError

#: a signal whose peak stays below this amplitude (-80 dBFS) counts as silent
SILENCE_PEAK = 1e-4

#: float samples above this many times full scale are not audio (1e30 from a damaged float WAV)
MAX_PEAK = 100.0

#: a header rate below this is corrupt, not audio: decoding it at 22,050 Hz would blow each stored
#: sample up into thousands (a 1 Hz header turns 22,050 frames into 486 million samples)
MIN_SAMPLE_RATE = 1000

#: extensions the dataset indexers treat as audio
AUDIO_EXTENSIONS = (".wav", ".au", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".snd")


class AudioClippedWarning(UserWarning):
    """A float file's samples beyond [-1, 1] (up to :data:`MAX_PEAK`) were clipped by :func:`load`."""


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, without decoding the samples.

    Returned by :func:`info`.

    Attributes
    ----------
    path : str
        The file.
    sample_rate : int
        The file's own sample rate in Hz (at least :data:`MIN_SAMPLE_RATE`).
    frames : int
        Samples per channel; 0 when the header does not know the length (some MP3 headers report
        junk, which is read as unknown).
    channels : int
        Number of channels.
    format : str
        libsndfile's name of the container format (``"WAV"``, ``"AU"``, ``"FLAC"``, ``"MP3"``, ...).
    """

    path: str
    sample_rate: int
    frames: int
    channels: int
    format: str

    @property
    def duration(self) -> float:
        """Duration in seconds (0 when the header does not know the length).

        Returns
        -------
        float
            ``frames / sample_rate``.
        """
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of an audio file.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.

    Returns
    -------
    AudioInfo
        Rate, length, channels and format, as the header gives them.

    Raises
    ------
    musiclass.errors.AudioError
        When it cannot: the file is missing, not a regular file, empty (0 bytes), has an unreadable
        header, has no audio header at all (bytes libsndfile would only read as header-less raw
        u-law), or a sample rate below :data:`MIN_SAMPLE_RATE` (a damaged header).

    See Also
    --------
    load : Decode the samples.

    Examples
    --------
    >>> from musiclass import audio
    >>> audio.info("genres/blues/blues.00000.au").duration  # doctest: +SKIP
    30.013333333333332
    """
    path = Path(path)
    _check_exists(path)
    try:
        i = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(path, f"cannot read audio header ({_reason(exc, path)})") from None
    _check_header(path, i.format, i.samplerate)
    frames = int(i.frames) if 0 <= i.frames < 2**62 else 0  # some MP3 headers report junk
    return AudioInfo(str(path), int(i.samplerate), frames, int(i.channels), str(i.format))


def load(
    path: str | os.PathLike,
    sr: int | None = 22050,
    *,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    min_duration: float = 0.0,
    check_silence: bool = True,
    res_type: str = "soxr_hq",
) -> tuple[np.ndarray, int]:
    """Decode an audio file to float32 samples in [-1, 1].

    Integer audio always lies in [-1, 1]; a float file's samples beyond it are clipped, with an
    :class:`AudioClippedWarning`, and a peak above :data:`MAX_PEAK` is refused as not audio.
    Resampling may overshoot full scale by a little, as :func:`librosa.load` does. A file that
    shrinks while it is read (fewer frames decoded than its header announced when opened) is
    refused, as a failure worth retrying (the error's cause is an ``OSError`` ``EAGAIN``).

    Parameters
    ----------
    path : str or os.PathLike
        File to read.
    sr : int or None, default=22050
        Target sample rate in Hz; ``None`` keeps the file's own rate.
    mono : bool, default=True
        Average the channels (``librosa.to_mono``). When False the result has shape
        ``(channels, samples)``.
    offset : float, default=0.0
        Start of the part to read, in seconds.
    duration : float or None, default=None
        Length of the part to read, in seconds; ``None`` reads to the end.
    min_duration : float, default=0.0
        The decoded part must last at least this many seconds.
    check_silence : bool, default=True
        Reject a signal whose peak is below :data:`SILENCE_PEAK` (-80 dBFS).
    res_type : str, default="soxr_hq"
        Resampler passed to :func:`librosa.resample`.

    Returns
    -------
    y : numpy.ndarray
        The samples, float32, of shape ``(samples,)`` (or ``(channels, samples)`` when
        ``mono=False``).
    sr : int
        Their sample rate in Hz: ``sr``, or the file's own rate when ``sr`` is None.

    Raises
    ------
    musiclass.errors.AudioError
        Naming the file and the reason: missing, not a regular file, empty, an invalid
        ``offset``/``duration``, undecodable, an implausible header (see :func:`info`), too large to
        decode in memory, no samples (empty or truncated audio data, or ``offset`` past the end),
        NaN or infinite samples, a peak above :data:`MAX_PEAK`, fewer samples than the header
        announced when opened (the file changed while read), shorter than ``min_duration`` (saying so when a WAV header
        announces more data than the file holds: a truncated file), or silent.

    See Also
    --------
    resample : Resample decoded samples as this function does.

    Examples
    --------
    >>> from musiclass import audio
    >>> y, sr = audio.load("genres/blues/blues.00000.au", sr=22050)  # doctest: +SKIP
    >>> y.dtype, y.shape, sr  # doctest: +SKIP
    (dtype('float32'), (661794,), 22050)
    """
    path = Path(path)
    _check_exists(path)
    if offset < 0 or (duration is not None and duration <= 0):
        raise AudioError(path, f"invalid offset/duration ({offset}, {duration})")
    try:
        with sf.SoundFile(str(path)) as f:
            _check_header(path, f.format, f.samplerate)
            native_sr = int(f.samplerate)
            if offset:
                start = int(round(offset * native_sr))
                if f.seekable():
                    f.seek(min(start, f.frames) if f.frames > 0 else start)
                else:  # pragma: no cover - libsndfile seeks every format we index
                    f.read(start, dtype="float32")
            frames = -1 if duration is None else int(round(duration * native_sr))
            # what the header promises from here; MP3 headers only estimate it
            left = f.frames - f.tell() if f.seekable() and f.format not in ("MP3", "MPEG") else 0
            data = f.read(frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(path, f"cannot decode audio ({_reason(exc, path)})") from None
    except MemoryError:
        raise AudioError(path, "file too large to decode in memory") from None
    want = left if frames < 0 else min(frames, left)
    if 0 < data.shape[0] < want:  # the file shrank while it was read: a copy still being written?
        raise AudioError(
            path,
            f"the file changed while it was read: {data.shape[0]} of the {want} frames its header "
            "announced were decoded (is it still being written?)",
        ) from OSError(errno.EAGAIN, "file changed while it was read", str(path))

    y = data.T  # (channels, samples)
    if y.shape[1] == 0:
        raise AudioError(
            path, "no audio samples (empty or truncated audio data, or offset past the end)"
        )
    if not np.all(np.isfinite(y)):
        raise AudioError(path, "contains NaN or infinite sample values")
    peak = float(np.max(np.abs(y)))
    if peak > MAX_PEAK:
        raise AudioError(
            path,
            f"non-finite or out-of-range samples (peak {peak:.3g}, more than {MAX_PEAK:g} times "
            "full scale: float audio lies in [-1, 1])",
        )
    if peak > 1.0:  # a float file a little over full scale: clipped, as integer audio would be
        warnings.warn(
            f"{path}: {int(np.count_nonzero(np.abs(y) > 1))} sample(s) outside [-1, 1] "
            f"(peak {peak:.3g}) clipped to [-1, 1]",
            AudioClippedWarning,
            stacklevel=2,
        )
        y = np.clip(y, -1.0, 1.0)
    if mono:
        y = librosa.to_mono(y) if y.shape[0] > 1 else y[0]
    y = resample(y, native_sr, sr, res_type=res_type)
    out_sr = native_sr if sr is None else int(sr)

    seconds = y.shape[-1] / out_sr
    if seconds < min_duration:
        have, need = seconds_apart(seconds, min_duration)
        raise AudioError(
            path, f"too short: {have} s of audio, at least {need} s needed{_truncation_note(path)}"
        )
    if check_silence and float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError(path, "silent (peak amplitude below -80 dBFS)")
    return y, out_sr


def resample(
    y: np.ndarray, orig_sr: int, target_sr: int | None, res_type: str = "soxr_hq"
) -> np.ndarray:
    """Resample as :func:`load` does: :func:`librosa.resample`, float32, C order; no-op when rates match.

    ``resample(load(p, sr=None)[0], native, 12000)`` equals ``load(p, sr=12000)[0]``, so one decode
    can feed several rates.

    Parameters
    ----------
    y : numpy.ndarray
        Samples, ``(samples,)`` or ``(channels, samples)``.
    orig_sr : int
        Their rate in Hz.
    target_sr : int or None
        The rate wanted, in Hz; ``None`` keeps ``orig_sr``.
    res_type : str, default="soxr_hq"
        Resampler passed to :func:`librosa.resample`.

    Returns
    -------
    numpy.ndarray
        C-contiguous float32 samples at ``target_sr`` (``y`` converted, when the rates match).

    Examples
    --------
    >>> import numpy as np
    >>> from musiclass.audio import resample
    >>> resample(np.zeros(44100), 44100, 22050).shape
    (22050,)
    """
    if target_sr is not None and int(target_sr) != int(orig_sr):
        y = librosa.resample(y, orig_sr=orig_sr, target_sr=target_sr, res_type=res_type)
    return np.ascontiguousarray(y, dtype=np.float32)


def _check_header(path: Path, fmt: str, samplerate: int | None = None) -> None:
    """Reject headers that only look like audio.

    libsndfile opens any bytes named ``.au``/``.snd`` as header-less 8 kHz u-law ("RAW"): that is
    never a real audio file here, so corrupt data must not decode as noise. A sample rate below
    :data:`MIN_SAMPLE_RATE` is a damaged header: resampling it would allocate gigabytes.
    """
    if str(fmt).upper() == "RAW":
        raise AudioError(
            path, "no audio header (the bytes would only read as header-less raw u-law)"
        )
    if samplerate is not None and int(samplerate) < MIN_SAMPLE_RATE:
        raise AudioError(
            path,
            f"implausible sample rate {int(samplerate)} Hz in the header "
            f"(at least {MIN_SAMPLE_RATE} Hz expected): a damaged header",
        )


def seconds_apart(have: float, need: float) -> tuple[str, str]:
    """Format ``have`` and ``need`` in seconds, with 2 decimals, or more when 2 would print them equal.

    For error messages: 0.9993 s against 1 s prints as "0.999" and "1.000", never as "1.00 s of
    audio, at least 1.00 s needed". At most 6 decimals are used.

    Parameters
    ----------
    have : float
        The duration found, in seconds.
    need : float
        The duration required, in seconds.

    Returns
    -------
    tuple of (str, str)
        ``have`` and ``need``, formatted with the same number of decimals.

    Examples
    --------
    >>> from musiclass.audio import seconds_apart
    >>> seconds_apart(12.5, 29.0)
    ('12.50', '29.00')
    >>> seconds_apart(0.9993, 1.0)
    ('0.999', '1.000')
    """
    for digits in range(2, 7):
        a, b = f"{have:.{digits}f}", f"{need:.{digits}f}"
        if a != b:
            return a, b
    return f"{have:.6f}", f"{need:.6f}"


_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_BLOCK_ALIGN = re.compile(r"Block Align\s*:\s*(\d+)")


def _truncation_note(path: Path) -> str:
    """``"; the file is truncated: ..."`` when a WAV header announces more audio data than the file
    holds (a cut-off download), else ``""``. Only asked on the error path, so good files cost nothing."""
    try:
        with sf.SoundFile(str(path)) as f:
            log, sr = f.extra_info, int(f.samplerate)
    except Exception:  # noqa: BLE001 - a note for an error message must never raise
        return ""
    size, align = _DATA_SIZE.search(log), _BLOCK_ALIGN.search(log)
    if size is None:
        return ""
    announced, present = int(size[1]), int(size[2])
    if announced <= present or announced >= 0xFFFFFF00:  # 0xFFFFFFFF-style sizes of streamed WAVs
        return ""
    if align is not None and int(align[1]) > 0 and sr > 0:
        return (
            f"; the file is truncated: its header announces {announced / int(align[1]) / sr:.2f} s "
            f"({announced} bytes of audio data), only {present} bytes are present"
        )
    return f"; the file is truncated: its header announces {announced} bytes of audio data, only {present} are present"


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise AudioError(path, "file not found")
    if not path.is_file():
        raise AudioError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")


def _reason(exc: BaseException, path: Path | None = None) -> str:
    text = str(exc).strip()
    # libsndfile messages repeat the path; keep only its explanation
    if "Error opening" in text and ":" in text:
        text = text.rsplit(":", 1)[-1].strip()
    if path is not None and text.lower().startswith("system error"):
        # libsndfile says only "System error." when open() fails: ask the OS why
        try:
            with open(path, "rb"):
                pass
        except PermissionError:
            return "permission denied: this user may not read the file"
        except OSError as err:
            return f"system error: {err.strerror or err}"
    if "possibly a pipe" in text:
        # libsndfile's MPEG reader says "File does not exist or is not a regular file (possibly a
        # pipe?)" for data it cannot sync on; _check_exists has already seen a regular file
        text = "no decodable audio stream found: data corrupt or not audio"
    return text or type(exc).__name__
