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
Values are not rounded (the original rounded to 3 decimals).
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.stats

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


def descriptors(y: np.ndarray, sr: int) -> np.ndarray:
    """The 97 descriptors of a mono signal, in :data:`DESCRIPTOR_NAMES` order (float64).

    Parameters
    ----------
    y : numpy.ndarray of shape (n_samples,)
        The mono signal; it must hold at least ``N_FFT`` samples.
    sr : int
        Its sample rate in Hz; must exceed 12,800 Hz (the store computes the table at
        :data:`SAMPLE_RATE`).

    Returns
    -------
    numpy.ndarray of shape (97,)
        The descriptors (see the module docstring).

    Raises
    ------
    ValueError
        When ``y`` is not 1-D, is shorter than ``N_FFT`` samples, or ``sr`` is 12,800 Hz or less.

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

    # one STFT for every spectral descriptor
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
    power = S**2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr))

    out: list[float] = []

    def mean_std(x: np.ndarray) -> None:  # x: (bands, frames); numpydoc ignore=GL08
        out.extend(np.mean(x, axis=-1).tolist())
        out.extend(np.std(x, axis=-1).tolist())

    def mean_std_pairs(x: np.ndarray) -> None:  # one band -> mean, std; numpydoc ignore=GL08
        out.extend([float(np.mean(x)), float(np.std(x))])

    absy = np.abs(y)
    out += [
        float(np.mean(absy)),
        float(np.std(y)),
        float(scipy.stats.skew(absy)),
        float(scipy.stats.kurtosis(y)),
    ]
    mean_std_pairs(librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP_LENGTH))
    mean_std_pairs(librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP_LENGTH))
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP_LENGTH)
    out.append(float(librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=HOP_LENGTH)[0]))
    mean_std_pairs(
        librosa.feature.spectral_centroid(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)
    )
    for p in (2, 3, 4):
        mean_std_pairs(
            librosa.feature.spectral_bandwidth(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, p=p)
        )
    mean_std(librosa.feature.spectral_contrast(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH))
    mean_std_pairs(
        librosa.feature.spectral_rolloff(
            S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, roll_percent=0.85
        )
    )
    mean_std(librosa.feature.mfcc(S=mel_db, n_mfcc=20))
    mean_std(librosa.feature.chroma_stft(S=power, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH))

    values = np.asarray(out, dtype=np.float64)
    assert values.shape == (len(DESCRIPTOR_NAMES),)
    return values
