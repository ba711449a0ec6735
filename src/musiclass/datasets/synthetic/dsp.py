"""Signal helpers: Butterworth filters, saturation, formants, reverb, echo, bit-crushing, envelopes.

Pure functions of their inputs (plus an explicit generator where noise is involved) on mono
float arrays; times in seconds, frequencies in Hz, ``sr`` the sample rate in Hz. The bottom of
the signal stack: it imports no sibling module.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal


def _db(x_db: float) -> float:
    return float(10.0 ** (x_db / 20.0))


#: vowel formants (Hz) for the voice-like timbres
VOWEL_FORMANTS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (300.0, 2250.0, 3000.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (320.0, 870.0, 2240.0),
}


def _sos(kind: str, hz, sr: int, order: int = 2) -> np.ndarray:
    """Second-order sections of a Butterworth filter (designs are cached: they repeat a lot)."""
    key = tuple(round(float(h), 3) for h in hz) if kind == "bandpass" else round(float(hz), 3)
    return _sos_cached(kind, key, int(sr), int(order))


@functools.lru_cache(maxsize=4096)
def _sos_cached(kind: str, hz, sr: int, order: int) -> np.ndarray:
    nyq = 0.5 * sr
    if kind == "bandpass":
        lo, hi = (min(max(h, 20.0), 0.95 * nyq) for h in hz)
        return scipy.signal.butter(
            order, [lo, max(hi, lo * 1.05)], btype="bandpass", fs=sr, output="sos"
        )
    return scipy.signal.butter(
        order, min(max(hz, 20.0), 0.95 * nyq), btype=kind, fs=sr, output="sos"
    )


def lowpass(x: np.ndarray, hz: float, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth low-pass filter (causal, :func:`scipy.signal.sosfilt`).

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    hz : float > 0
        Cutoff frequency (Hz), limited to [20, 0.475 * ``sr``]; the design is cached with
        ``hz`` rounded to 1 mHz.
    sr : int > 0
        Sample rate (Hz).
    order : int > 0
        Filter order.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float64]
        The filtered signal; ``x`` itself (not a copy) when ``hz >= 0.45 * sr``, where the filter
        would be inaudible.
    """
    if hz >= 0.45 * sr:
        return x
    return scipy.signal.sosfilt(_sos("lowpass", hz, sr, order), x)


def highpass(x: np.ndarray, hz: float, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth high-pass filter (causal, :func:`scipy.signal.sosfilt`).

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    hz : float > 0
        Cutoff frequency (Hz), limited to [20, 0.475 * ``sr``]; the design is cached with
        ``hz`` rounded to 1 mHz.
    sr : int > 0
        Sample rate (Hz).
    order : int > 0
        Filter order.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float64]
        The filtered signal.
    """
    return scipy.signal.sosfilt(_sos("highpass", hz, sr, order), x)


def bandpass(x: np.ndarray, lo: float, hi: float, sr: int, order: int = 1) -> np.ndarray:
    """Butterworth band-pass filter (causal, :func:`scipy.signal.sosfilt`).

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    lo, hi : float > 0
        Band edges (Hz), each limited to [20, 0.475 * ``sr``]; ``hi`` is raised to at least
        ``1.05 * lo``. The design is cached with the edges rounded to 1 mHz.
    sr : int > 0
        Sample rate (Hz).
    order : int > 0
        Order of the low-pass prototype (the band-pass has twice as many poles).

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float64]
        The filtered signal.
    """
    return scipy.signal.sosfilt(_sos("bandpass", (lo, hi), sr, order), x)


def saturate(x: np.ndarray, drive: float) -> np.ndarray:
    """Soft clipping: ``tanh(g x) / g`` with gain ``g = 1 + drive`` on a peak-normalised copy.

    The output has the input's peak level; the larger ``drive``, the more the waveform is
    flattened towards a square wave (more odd harmonics, less dynamic range).

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    drive : float
        Amount of distortion; ``<= 0`` leaves ``x`` unchanged.

    Returns
    -------
    y : np.ndarray [shape=(n,)]
        The saturated signal, at ``x``'s peak level (``x`` itself when ``drive <= 0`` or ``x`` is
        all zeros).
    """
    if drive <= 0:
        return x
    peak = float(np.max(np.abs(x)))
    if peak <= 0:
        return x
    g = 1.0 + drive
    return np.tanh(g * (x / peak)) * (peak / np.tanh(g))


def formant_filter(x: np.ndarray, vowel: str, sr: int) -> np.ndarray:
    """A voice-like colour: ``x`` through three parallel band-passes at the vowel's formants.

    The output is ``0.15 x`` plus the three formant bands (each from ``f / 1.2`` to ``f * 1.2``,
    see :data:`VOWEL_FORMANTS`) at gains 1, 0.6 and 0.3.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    vowel : str
        One of the keys of :data:`VOWEL_FORMANTS` (``"a"``, ``"e"``, ``"i"``, ``"o"``, ``"u"``).
    sr : int > 0
        Sample rate (Hz).

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float64]
        The filtered signal.

    Raises
    ------
    KeyError
        If ``vowel`` is not in :data:`VOWEL_FORMANTS`.
    """
    out = 0.15 * x
    for f, gain in zip(VOWEL_FORMANTS[vowel], (1.0, 0.6, 0.3)):
        out = out + gain * bandpass(x, f / 1.2, f * 1.2, sr)
    return out


def reverb(
    x: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    seconds: float,
    mix: float,
    damping_hz: float = 5000.0,
) -> np.ndarray:
    """Convolution reverb with a decaying-noise impulse response.

    The impulse response is Gaussian noise drawn from ``rng`` (``max(seconds * sr, 16)``
    samples) with an exponential envelope reaching -60 dB at ``seconds``, low-passed at
    ``damping_hz``, faded in over 10 ms and normalised to unit energy. The wet signal
    (convolved in float32, cut to the input's length) is scaled to the input's standard
    deviation before mixing.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    sr : int > 0
        Sample rate (Hz).
    rng : np.random.Generator
        Source of the impulse response's noise (advanced by its length).
    seconds : float
        Reverberation time RT60 (s); ``<= 0`` disables the reverb.
    mix : float in [0, 1]
        Wet share: ``y = (1 - mix) x + mix wet``; ``<= 0`` disables the reverb.
    damping_hz : float > 0
        Low-pass cutoff (Hz) of the impulse response (darker tails when lower).

    Returns
    -------
    y : np.ndarray [shape=(n,)]
        The reverberated signal (float64 for float64 input); ``x`` itself when disabled.
    """
    if mix <= 0 or seconds <= 0:
        return x
    n_ir = max(int(seconds * sr), 16)
    tt = np.arange(n_ir) / sr
    ir = rng.standard_normal(n_ir) * np.exp(-6.9 * tt / seconds)
    ir = lowpass(ir, damping_hz, sr, order=1)
    ir[: int(0.01 * sr)] *= np.linspace(0.0, 1.0, int(0.01 * sr))  # 10 ms pre-delay fade-in
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    wet = scipy.signal.fftconvolve(x.astype(np.float32), ir.astype(np.float32))[: x.size]
    return (1.0 - mix) * x + mix * wet * (np.std(x) / (np.std(wet) + 1e-12))


def echo(
    x: np.ndarray, sr: int, delay: float, feedback: float, mix: float, taps: int = 4
) -> np.ndarray:
    """A feedback delay (dub echo): ``taps`` repeats ``delay`` seconds apart.

    ``y = x + mix * sum_{i=1..taps} feedback ** (i - 1) * x[t - i * delay]``; repeats that
    would start after the end of ``x`` are dropped.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    sr : int > 0
        Sample rate (Hz).
    delay : float > 0
        Time between repeats (s), truncated to whole samples.
    feedback : float
        Gain of each repeat relative to the previous one.
    mix : float
        Level of the repeats; ``<= 0`` returns ``x`` unchanged.
    taps : int > 0
        Number of repeats.

    Returns
    -------
    y : np.ndarray [shape=(n,)]
        The signal with its echoes (same dtype as ``x``); ``x`` itself when ``mix <= 0``.
    """
    if mix <= 0:
        return x
    d = int(delay * sr)
    wet = np.zeros_like(x)
    for i in range(1, taps + 1):
        if i * d >= x.size:
            break
        wet[i * d :] += (feedback ** (i - 1)) * x[: x.size - i * d]
    return x + mix * wet


def bitcrush(x: np.ndarray, bits: int, hold: int) -> np.ndarray:
    """Retro lo-fi: quantise to ``bits`` and sample-and-hold every ``hold`` samples.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Input signal.
    bits : int > 0
        Resolution: ``2 ** (bits - 1)`` steps between zero and the signal's peak.
    hold : int > 0
        Keep every ``hold``-th sample and repeat it ``hold`` times (a sample rate of
        ``sr / hold``); ``1`` keeps every sample.

    Returns
    -------
    y : np.ndarray [shape=(n,)]
        The crushed signal.
    """
    peak = float(np.max(np.abs(x))) or 1.0
    q = 2.0 ** (bits - 1)
    y = np.round(x / peak * q) / q * peak
    if hold > 1:
        y = np.repeat(y[::hold], hold)[: x.size]
    return y


def _smooth_noise(rng: np.random.Generator, n: int, sr: int, period: float) -> np.ndarray:
    """Zero-mean, unit-std noise that changes over ``period`` seconds (cubic-free linear interpolation)."""
    knots = max(int(n / (period * sr)) + 2, 2)
    vals = rng.standard_normal(knots)
    return np.interp(np.linspace(0.0, knots - 1.0, n), np.arange(knots), vals)


def _decay_env(n: int, sr: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (max(seconds, 1e-3) * sr))
