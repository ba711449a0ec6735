"""The hand-crafted descriptor table: one row of 97 numbers per track.

The descriptors and their order are those of the original study's ``df_features.csv`` (so the
classical-ML code reads both tables alike), computed from **one** STFT (``n_fft=2048``,
``hop_length=512``, librosa's defaults, which the original used):

=====================  =====================================================================
signal_mean/std        mean of ``|y|``, standard deviation of ``y``
signal_skew/kurtosis   skewness of ``|y|``, excess kurtosis of ``y`` (the original's definitions)
zcr                    :func:`librosa.feature.zero_crossing_rate`, mean and std over frames
rmse                   :func:`librosa.feature.rms` of the waveform
tempo                  :func:`librosa.feature.tempo` (BPM)
spectral_centroid      :func:`librosa.feature.spectral_centroid`
spectral_bandwidth_p   :func:`librosa.feature.spectral_bandwidth` for p = 2, 3, 4. The original's
                       p=3 and p=4 columns were identical (a copy bug); here each is its own p.
spectral_contrast_k    :func:`librosa.feature.spectral_contrast`, 7 bands
spectral_rolloff       :func:`librosa.feature.spectral_rolloff` at 0.85
mfccs_k                :func:`librosa.feature.mfcc`, 20 coefficients
chroma_stft_k          :func:`librosa.feature.chroma_stft`, 12 pitch classes
=====================  =====================================================================

Frame-wise descriptors are aggregated as mean and (population) standard deviation over frames.
Values are not rounded (the original rounded to 3 decimals). A signal whose descriptors are not
all finite (a constant one, silent or DC-only, has no skewness or kurtosis) is refused with a
``ValueError`` rather than given NaN values.

Each value equals the librosa (or scipy) function it names to within 1e-5 relative, 1e-6
absolute near 0 (``tests/test_handcrafted.py`` checks all 97 against the plain calls), but the
work those calls repeat is done once (about 4.5x less time per clip; ``docs/performance.md``):

- centroid, the three bandwidths and the rolloff in one blocked pass over the spectrogram: one
  normalisation and one centroid for all (librosa recomputes both for each p); p = 2 and p = 4
  from the raw moments ``sum(S f^k)``, k = 0..4, of one matrix product (``|f - c|^p`` is a
  polynomial in ``f`` for even p); p = 3 from the deviations ``|f - c|`` cubed by
  multiplication, not a float power; all in float64, as librosa computes them;
- the tuning estimate of ``chroma_stft`` (``estimate_tuning`` -> ``piptrack``) on the
  150-4000 Hz bins it keeps, plus one neighbour each side, instead of all 1025;
- the tempo's mean normalised autocorrelation as one inverse FFT of the frames' power spectra
  weighted by their energies (the inverse FFT is linear; an autocorrelation peaks at lag 0);
- zero crossings counted once over the signal, not once per overlapping frame;
- the STFT, the spectral contrast sort and the rolloff running sums along contiguous memory,
  and the filterbanks and window built once per rate.

The STFT, tuning, rolloff bins and tempo are bit-for-bit librosa's.
"""

from __future__ import annotations

import functools

import librosa
import numpy as np
import scipy.fft

N_FFT = 2048
HOP_LENGTH = 512
#: the table is always computed at the original's rate, whatever rate the frontend uses: its
#: spectral contrast has 6 octave bands from 200 Hz, which need a rate above 12.8 kHz
SAMPLE_RATE = 22050


def _names() -> list[str]:
    names = [
        "signal_mean",
        "signal_std",
        "signal_skew",
        "signal_kurtosis",
        "zcr_mean",
        "zcr_std",
        "rmse_mean",
        "rmse_std",
        "tempo",
        "spectral_centroid_mean",
        "spectral_centroid_std",
    ]
    for p in (2, 3, 4):
        names += [f"spectral_bandwidth_{p}_mean", f"spectral_bandwidth_{p}_std"]
    names += [f"spectral_contrast_{k}_mean" for k in range(1, 8)]
    names += [f"spectral_contrast_{k}_std" for k in range(1, 8)]
    names += ["spectral_rolloff_mean", "spectral_rolloff_std"]
    names += [f"mfccs_{k}_mean" for k in range(1, 21)] + [f"mfccs_{k}_std" for k in range(1, 21)]
    names += [f"chroma_stft_{k}_mean" for k in range(1, 13)] + [
        f"chroma_stft_{k}_std" for k in range(1, 13)
    ]
    return names


#: the 97 column names, in the original table's order
DESCRIPTOR_NAMES: tuple[str, ...] = tuple(_names())


#: librosa's defaults that the descriptors use (tuning estimation, spectral contrast, tempo)
_PIP_FMIN, _PIP_FMAX, _PIP_THRESHOLD = 150.0, 4000.0, 0.1
_CONTRAST_FMIN, _CONTRAST_BANDS, _CONTRAST_QUANTILE = 200.0, 6, 0.02
_TEMPO_AC_SECONDS, _TEMPO_START_BPM, _TEMPO_STD_BPM, _TEMPO_MAX = 8.0, 120.0, 1.0, 320.0
_ZC_THRESHOLD = 1e-10
_ROLL_PERCENT = 0.85
#: frames per block of the centroid / bandwidth / rolloff pass (keeps its temporaries in cache)
_BLOCK = 64
_STFT_BLOCK = 16
_TINY32 = float(np.finfo(np.float32).tiny)  # librosa.util.tiny of a float32 spectrogram


@functools.lru_cache(maxsize=4)
def _banks(sr: int) -> dict:  # numpydoc ignore=GL08 - what depends on the rate only, built once
    freq = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    # spectral contrast: librosa.feature.spectral_contrast's band rows and quantile counts
    octa = np.zeros(_CONTRAST_BANDS + 2)
    octa[1:] = _CONTRAST_FMIN * (2.0 ** np.arange(0, _CONTRAST_BANDS + 1))
    bands = []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        current = np.logical_and(freq >= f_low, freq <= f_high)
        idx = np.flatnonzero(current)
        if k > 0:
            current[idx[0] - 1] = True
        if k == _CONTRAST_BANDS:
            current[idx[-1] + 1 :] = True
        rows = np.flatnonzero(current)
        if k < _CONTRAST_BANDS:
            rows = rows[:-1]
        q = max(int(np.rint(_CONTRAST_QUANTILE * np.sum(current))), 1)
        bands.append((int(rows[0]), int(rows[-1]) + 1, q))  # the rows are contiguous
    # tuning estimation: piptrack's feasible bins
    in_range = np.flatnonzero((_PIP_FMIN <= freq) & (freq < min(_PIP_FMAX, sr / 2)))
    # tempo: librosa.feature.tempo's window and prior
    win = int(librosa.time_to_frames(_TEMPO_AC_SECONDS, sr=sr, hop_length=HOP_LENGTH).item())
    bpms = librosa.tempo_frequencies(win, hop_length=HOP_LENGTH, sr=sr)
    with np.errstate(divide="ignore"):  # bpms[0] is inf, as in librosa
        logprior = -0.5 * ((np.log2(bpms) - np.log2(_TEMPO_START_BPM)) / _TEMPO_STD_BPM) ** 2
    logprior[: int(np.argmax(bpms < _TEMPO_MAX))] = -np.inf
    return {
        "freq": freq,
        "window": librosa.filters.get_window("hann", N_FFT, fftbins=True),
        "mel": librosa.filters.mel(sr=sr, n_fft=N_FFT),
        "contrast_bands": bands,
        "pip_rows": (int(in_range[0]), int(in_range[-1]) + 1),
        "tempo_win": win,
        "tempo_window": librosa.filters.get_window("hann", win, fftbins=True),
        "tempo_bpms": bpms,
        "tempo_logprior": logprior,
    }


@functools.lru_cache(maxsize=256)
def _chroma_bank(sr: int, tuning: float) -> np.ndarray:  # numpydoc ignore=GL08
    return librosa.filters.chroma(sr=sr, n_fft=N_FFT, tuning=tuning, n_chroma=12)


def _standardised_moment(x: np.ndarray, order: int) -> tuple[float, np.floating, np.floating]:
    """``m_order / m2^(order/2)`` of ``x``, as ``scipy.stats.skew`` / ``kurtosis`` compute it.

    The biased central moments in the input's float32, by multiplication; NaN where scipy
    returns NaN (a variance lost to rounding: ``m2 <= (eps * mean)^2``).

    Parameters
    ----------
    x : numpy.ndarray of shape (n_samples,)
        The values (float32).
    order : {3, 4}
        3 for the skewness, 4 for the (non-excess) kurtosis.

    Returns
    -------
    value : float
        The standardised moment, or NaN.
    mean : numpy.float32
        The mean of ``x``.
    m2 : numpy.float32
        Its biased variance.
    """
    mean = np.mean(x)
    d = x - mean
    d2 = d * d
    m2 = np.mean(d2)
    m = np.mean(d2 * d) if order == 3 else np.mean(d2 * d2)
    if m2 <= (np.finfo(x.dtype).eps * mean) ** 2:
        return np.nan, mean, m2
    return float(m / m2 ** (order / 2)), mean, m2


def _estimate_tuning(power: np.ndarray, sr: int, rows: tuple[int, int]) -> float:
    """:func:`librosa.estimate_tuning` of a power spectrogram, computed on the bins it reads.

    librosa's ``piptrack`` interpolates and picks peaks over all bins and then keeps those in
    150-4000 Hz; the same values come from those bins and their two neighbours alone.

    Parameters
    ----------
    power : numpy.ndarray of shape (1 + N_FFT // 2, n_frames)
        The power spectrogram (what ``chroma_stft`` passes to ``estimate_tuning``).
    sr : int
        The sample rate in Hz.
    rows : tuple of int
        The first bin in 150-4000 Hz and one past the last.

    Returns
    -------
    float
        The tuning deviation in fractions of a bin, as ``librosa.estimate_tuning`` returns it.
    """
    lo, hi = rows
    ref = _PIP_THRESHOLD * np.max(power, axis=0)
    x = power[lo - 1 : hi + 1]  # the bins and one neighbour on each side
    xm = x * (x > ref)
    peak = (xm[1:-1] > xm[:-2]) & (xm[1:-1] >= xm[2:])
    f, t = np.nonzero(peak)
    left, mid, right = x[f, t], x[f + 1, t], x[f + 2, t]
    # librosa's parabolic interpolation stencil, in float32 as its numba kernel computes it
    a = right + left - 2 * mid
    b = (right - left) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(b) >= np.abs(a), np.float32(0), -b / a)
    avg = (x[f + 2, t] - x[f, t]) / np.float32(2.0)  # np.gradient's interior difference
    mags = mid + np.float32(0.5) * avg * shift
    pitches = ((f + lo + shift) * float(sr) / N_FFT).astype(np.float32)
    threshold = np.median(mags) if mags.size else 0.0
    return float(
        librosa.pitch_tuning(pitches[mags >= threshold], resolution=0.01, bins_per_octave=12)
    )


def _tempo(onset: np.ndarray, sr: int, banks: dict) -> float:
    """:func:`librosa.feature.tempo` of an onset envelope, with one inverse FFT in all.

    librosa averages over frames the autocorrelation of each windowed frame of the envelope
    divided by its maximum. The maximum of an autocorrelation is its lag-0 value (the frame's
    energy), and the inverse FFT is linear, so the average is the inverse FFT of the frames'
    power spectra each divided by its frame's energy.

    Parameters
    ----------
    onset : numpy.ndarray of shape (n_frames,)
        The onset strength envelope.
    sr : int
        The sample rate in Hz.
    banks : dict
        The rate's window and tempo prior (:func:`_banks`).

    Returns
    -------
    float
        The tempo estimate in BPM.
    """
    win, n = banks["tempo_win"], onset.shape[-1]
    padded = np.pad(onset, (win // 2, win // 2), mode="linear_ramp", end_values=[0, 0])
    n_pad = scipy.fft.next_fast_len(2 * win - 1, real=True)  # as librosa.autocorrelate pads
    frames = np.zeros((n, n_pad))  # each row one windowed frame, zero-padded for the FFT
    np.multiply(
        np.lib.stride_tricks.sliding_window_view(padded, win)[:n],
        banks["tempo_window"],
        out=frames[:, :win],
    )
    energy = np.einsum("ij,ij->i", frames, frames)  # each autocorrelation's lag-0 value
    energy[energy < np.finfo(energy.dtype).tiny] = 1.0  # as librosa.util.normalize
    parts = scipy.fft.rfft(frames, axis=-1).view(np.float64)  # real, imaginary interleaved
    parts *= parts
    weighted = (1.0 / energy) @ parts
    tg = scipy.fft.irfft(weighted[0::2] + weighted[1::2], n=n_pad)[:win] / n
    best = np.argmax(np.log1p(1e6 * tg) + banks["tempo_logprior"])
    return float(banks["tempo_bpms"][best])


def _zero_crossing_rate(y: np.ndarray) -> np.ndarray:
    """:func:`librosa.feature.zero_crossing_rate` (``frame_length=N_FFT``), by cumulative counts.

    Parameters
    ----------
    y : numpy.ndarray of shape (n_samples,)
        The signal.

    Returns
    -------
    numpy.ndarray of shape (n_frames,)
        The share of crossings in each frame, as librosa counts them.
    """
    # the sign bits librosa compares, once values within the threshold of 0 count as +0
    sign = np.pad(y < np.float64(-_ZC_THRESHOLD), (N_FFT // 2, N_FFT // 2), mode="edge")
    counts = np.concatenate(([0], np.cumsum(sign[1:] != sign[:-1], dtype=np.int32)))
    starts = np.arange(1 + (sign.size - N_FFT) // HOP_LENGTH) * HOP_LENGTH
    return (counts[starts + N_FFT - 1] - counts[starts]) / N_FFT


def _magnitude_stft(y: np.ndarray, window: np.ndarray) -> np.ndarray:
    """``np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))``, the same numbers.

    librosa windows the frames in float64, transforms them in blocks along the slow axis and
    stores complex64; this transforms blocks of frames along contiguous memory, which is
    faster, with the same arithmetic.

    Parameters
    ----------
    y : numpy.ndarray of shape (n_samples,)
        The signal (float32).
    window : numpy.ndarray of shape (N_FFT,)
        The periodic Hann window (float64).

    Returns
    -------
    numpy.ndarray of shape (1 + N_FFT // 2, 1 + n_samples // HOP_LENGTH)
        The magnitudes (float32, Fortran-ordered as librosa's).
    """
    padded = np.pad(y, (N_FFT // 2, N_FFT // 2))  # center=True, pad_mode="constant"
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    out = np.empty((frames.shape[0], 1 + N_FFT // 2), dtype=np.float32)
    for j in range(0, frames.shape[0], _STFT_BLOCK):
        spectra = scipy.fft.rfft(frames[j : j + _STFT_BLOCK] * window, axis=-1)
        np.abs(spectra.astype(np.complex64), out=out[j : j + _STFT_BLOCK])
    return out.T


def _spectral_shape(S: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Centroid, bandwidth for p = 2, 3, 4 and 0.85 rolloff of each frame, sharing the work.

    With ``w`` the frame's column-normalised magnitudes, ``c = sum(w f)`` and the bandwidth
    ``(sum(w |f - c|^p))^(1/p)``: for the even powers ``|f - c|^p`` is a polynomial in ``f``,
    so p = 2 and p = 4 come from the raw moments ``sum(w f^k)``, k = 0..4 (one matrix
    product, in float64 as librosa computes); p = 3 from the deviations, cubed by
    multiplication.

    Parameters
    ----------
    S : numpy.ndarray of shape (1 + N_FFT // 2, n_frames)
        The magnitude spectrogram.
    freq : numpy.ndarray of shape (1 + N_FFT // 2,)
        The bins' centre frequencies.

    Returns
    -------
    numpy.ndarray of shape (5, n_frames)
        Rows: centroid, bandwidth p=2, p=3, p=4, rolloff (as librosa computes them).
    """
    st = S.T  # frames x bins: contiguous when S is Fortran-ordered, as librosa.stft returns it
    powers = np.vander(freq, 5, increasing=True)  # f^k, k = 0..4
    out = np.empty((5, st.shape[0]))
    for j in range(0, st.shape[0], _BLOCK):  # blocks of frames, so the temporaries stay in cache
        block = st[j : j + _BLOCK]
        s64 = block.astype(np.float64)
        moments = s64 @ powers  # sum(S f^k)
        length = moments[:, 0].copy()
        length[length < _TINY32] = 1.0  # librosa.util.normalize leaves such frames as they are
        m0, m1, m2, m3, m4 = (moments / length[:, None]).T
        c = m1  # the centroid
        c2 = c * c
        bw2 = m2 - 2 * c * m1 + c2 * m0
        bw4 = m4 - 4 * c * m3 + 6 * c2 * m2 - 4 * c2 * c * m1 + c2 * c2 * m0
        d = freq - c[:, None]
        np.abs(d, out=d)
        s64 *= d
        d *= d
        s64 *= d
        bw3 = s64.sum(axis=1) / length
        # librosa.feature.spectral_rolloff: the same float32 running sums, in contiguous memory
        total = np.cumsum(block, axis=1)
        rolloff = freq[np.argmax(total >= _ROLL_PERCENT * total[:, -1:], axis=1)]
        # rounding may leave a tiny negative even moment where the true one is ~0
        bw2, bw4 = np.maximum(bw2, 0), np.maximum(bw4, 0)
        out[:, j : j + _BLOCK] = (c, np.sqrt(bw2), np.cbrt(bw3), np.sqrt(np.sqrt(bw4)), rolloff)
    return out


def _spectral_contrast(S: np.ndarray, bands: list) -> np.ndarray:
    """:func:`librosa.feature.spectral_contrast`, sorting each band along contiguous memory.

    Parameters
    ----------
    S : numpy.ndarray of shape (1 + N_FFT // 2, n_frames)
        The magnitude spectrogram.
    bands : list of tuple
        Each band's first row, one past its last row, and its quantile count (:func:`_banks`).

    Returns
    -------
    numpy.ndarray of shape (7, n_frames)
        Peak minus valley of each band in dB.
    """
    st = np.ascontiguousarray(S.T)  # a view when S is Fortran-ordered, as librosa.stft returns it
    valley = np.zeros((len(bands), S.shape[1]))
    peak = np.zeros_like(valley)
    for k, (r0, r1, q) in enumerate(bands):
        ordered = np.sort(st[:, r0:r1], axis=-1)
        valley[k] = np.mean(ordered[:, :q], axis=-1)
        peak[k] = np.mean(ordered[:, -q:], axis=-1)
    return librosa.power_to_db(peak) - librosa.power_to_db(valley)


def descriptors(y: np.ndarray, sr: int) -> np.ndarray:
    """The 97 descriptors of a mono signal, in :data:`DESCRIPTOR_NAMES` order (float64).

    Parameters
    ----------
    y : numpy.ndarray of shape (n_samples,)
        The mono signal; it must hold at least ``N_FFT`` samples and must not be constant.
    sr : int
        Its sample rate in Hz; must exceed 12,800 Hz (the store computes the table at
        :data:`SAMPLE_RATE`).

    Returns
    -------
    numpy.ndarray of shape (97,)
        The descriptors (see the module docstring), all finite.

    Raises
    ------
    ValueError
        When ``y`` is not 1-D, is shorter than ``N_FFT`` samples, or ``sr`` is 12,800 Hz or less;
        when ``y`` is constant (silent or DC-only) or any descriptor comes out not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from musiclass.features.handcrafted import DESCRIPTOR_NAMES, descriptors
    >>> y = 0.1 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
    >>> values = descriptors(y, 22050)
    >>> values.shape, DESCRIPTOR_NAMES[0]
    ((97,), 'signal_mean')
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"descriptors expect a mono signal, got shape {y.shape}")
    if y.size < N_FFT:
        raise ValueError(f"signal too short for descriptors: {y.size} samples < {N_FFT}")
    if sr <= 12800:
        raise ValueError(
            f"descriptors need a sample rate above 12,800 Hz (spectral contrast bands), got {sr}"
        )
    if not np.any(y != y[0]):
        raise ValueError(
            "constant signal (silent or DC-only): its skewness and kurtosis are undefined"
        )
    banks = _banks(int(sr))

    # one STFT for every spectral descriptor
    S = _magnitude_stft(y, banks["window"])
    power = S**2
    # the products as librosa.feature.melspectrogram and chroma_stft write them
    mel_db = librosa.power_to_db(np.einsum("...ft,mf->...mt", power, banks["mel"], optimize=True))

    out: list[float] = []

    def mean_std(x: np.ndarray) -> None:  # x: (bands, frames); numpydoc ignore=GL08
        out.extend(np.mean(x, axis=-1).tolist())
        out.extend(np.std(x, axis=-1).tolist())

    def mean_std_pairs(x: np.ndarray) -> None:  # one band -> mean, std; numpydoc ignore=GL08
        out.extend([float(np.mean(x)), float(np.std(x))])

    absy = np.abs(y)
    skew, mean_abs, _ = _standardised_moment(absy, 3)
    kurt, _, var = _standardised_moment(y, 4)
    out += [float(mean_abs), float(np.sqrt(var)), skew, kurt - 3]
    mean_std_pairs(_zero_crossing_rate(y))
    mean_std_pairs(librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP_LENGTH))
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP_LENGTH)
    out.append(_tempo(onset, sr, banks))
    shape = _spectral_shape(S, banks["freq"])
    for row in shape[:4]:  # centroid, bandwidth p = 2, 3, 4
        mean_std_pairs(row)
    mean_std(_spectral_contrast(S, banks["contrast_bands"]))
    mean_std_pairs(shape[4])  # rolloff
    mean_std(librosa.feature.mfcc(S=mel_db, n_mfcc=20))
    tuning = _estimate_tuning(power, sr, banks["pip_rows"])
    raw = np.einsum("cf,...ft->...ct", _chroma_bank(int(sr), tuning), power, optimize=True)
    length = np.max(raw, axis=0).astype(np.float64)
    length[length < _TINY32] = 1.0
    mean_std((raw / length).astype(np.float32))

    values = np.asarray(out, dtype=np.float64)
    assert values.shape == (len(DESCRIPTOR_NAMES),)
    bad = [name for name, v in zip(DESCRIPTOR_NAMES, values) if not np.isfinite(v)]
    if bad:
        raise ValueError(
            f"descriptors not finite for this signal: {', '.join(bad)} (e.g. a signal or a "
            "magnitude |y| too nearly constant for its skewness or kurtosis)"
        )
    return values
