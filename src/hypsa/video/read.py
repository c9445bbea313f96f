"""Reading video through PyAV (FFmpeg's libraries, codecs carried by the wheel).

Frames are streamed one at a time, converted to a small grey image only when they are kept, so
memory does not grow with the clip's length. Timestamps come from each frame's presentation time,
so variable-frame-rate phone footage keeps its true timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hypsa.errors import CorruptFileError, FileAccessError, UnsupportedFormatError

__all__ = ["VIDEO_SUFFIXES", "VideoInfo", "probe", "iter_frames", "grab_frames",
           "keyframe_times"]

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")


@dataclass(frozen=True)
class VideoInfo:
    """What a video container says about its picture stream.

    Attributes
    ----------
    path : Path
        The file.
    width, height : int
        Displayed size in pixels (after the rotation a phone records).
    fps : float
        Average frame rate.
    duration_s : float
        Length in seconds.
    codec : str
        Codec name.
    creation_time : datetime or None
        The container's creation time (naive, as written), when it has one.
    rotation : int
        Display rotation in degrees (0, 90, 180, 270).
    """

    path: Path
    width: int
    height: int
    fps: float
    duration_s: float
    codec: str
    creation_time: datetime | None
    rotation: int

    def to_dict(self) -> dict:
        """JSON-ready description."""
        return {"file": str(self.path), "width": self.width, "height": self.height,
                "fps": round(self.fps, 3), "duration_s": round(self.duration_s, 3),
                "codec": self.codec, "rotation": self.rotation,
                "creation_time": self.creation_time.isoformat() if self.creation_time else None}


def _av():
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UnsupportedFormatError("<video>", "video support needs the 'video' extra: "
                                     "pip install 'hypsa[video]'") from exc
    return av


def _open(path: Path):
    av = _av()
    if not path.exists():
        raise FileAccessError(path, "no such file")
    if path.is_dir():
        raise FileAccessError(path, "is a folder, expected a video file")
    try:
        c = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise CorruptFileError(path, f"not a readable video ({exc.strerror or exc}); expected "
                                     f"one of {', '.join(VIDEO_SUFFIXES)}") from None
    if not c.streams.video:
        c.close()
        raise UnsupportedFormatError(path, "holds no video stream")
    return c


def _creation_time(meta: dict) -> datetime | None:
    s = meta.get("creation_time") or meta.get("com.apple.quicktime.creationdate")
    if not s:
        return None
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    if t.year < 1971:  # muxers write 1970 or 1904 when no time was set
        return None
    return t


def _rotation(stream) -> int:
    rot = 0
    try:
        r = stream.metadata.get("rotate")
        if r:
            rot = int(float(r))
    except (ValueError, AttributeError):
        rot = 0
    return rot % 360


def probe(path: str | Path) -> VideoInfo:
    """Describe a video file without decoding it.

    Parameters
    ----------
    path : str or Path
        Video file (mp4, mov, avi, mkv, webm, ...).

    Returns
    -------
    VideoInfo

    Raises
    ------
    FileAccessError, CorruptFileError, UnsupportedFormatError
        Missing file, unreadable container, or no picture stream.
    """
    path = Path(path)
    c = _open(path)
    try:
        s = c.streams.video[0]
        cc = s.codec_context
        fps = float(s.average_rate or s.guessed_rate or 0) or 0.0
        if s.duration is not None and s.time_base is not None:
            dur = float(s.duration * s.time_base)
        elif c.duration is not None:
            dur = c.duration / 1e6
        else:
            dur = 0.0
        w, h = int(cc.width or 0), int(cc.height or 0)
        if w <= 0 or h <= 0:
            raise CorruptFileError(path, "the video stream has no picture size")
        rot = _rotation(s)
        if rot in (90, 270):
            w, h = h, w
        meta = {**dict(c.metadata), **dict(s.metadata)}
        return VideoInfo(path, w, h, fps, dur, cc.name, _creation_time(meta), rot)
    finally:
        c.close()


def _small_size(w: int, h: int, width: int) -> tuple[int, int]:
    if w <= width:
        return w - w % 2, h - h % 2
    sh = int(round(h * width / w))
    return width, max(2, sh - sh % 2)


def _rotate(a: np.ndarray, rot: int) -> np.ndarray:
    if rot == 90:
        return np.rot90(a, -1)
    if rot == 180:
        return a[::-1, ::-1]
    if rot == 270:
        return np.rot90(a, 1)
    return a


def _decode(path: Path, width: int):
    """Yield ``(t_s, convert)`` for every decoded frame; ``convert(fmt)`` makes the small image."""
    info = probe(path)
    c = _open(path)
    av = _av()
    try:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        cc = s.codec_context
        sw, sh = int(cc.width), int(cc.height)
        scale = min(1.0, width / float(info.width))
        ow = max(2, int(round(sw * scale / 2)) * 2)
        oh = max(2, int(round(sh * scale / 2)) * 2)
        t_first = None
        n = 0
        try:
            for frame in c.decode(s):
                if frame.pts is None or frame.time_base is None:
                    t = n / (info.fps or 30.0)
                else:
                    t = float(frame.pts * frame.time_base)
                n += 1
                if t_first is None:
                    t_first = t
                t -= t_first

                def convert(fmt: str, frame=frame) -> np.ndarray:
                    img = frame.reformat(width=ow, height=oh, format=fmt).to_ndarray()
                    return _rotate(img, info.rotation)

                yield t, convert
        except av.error.FFmpegError as exc:
            if n == 0:
                raise CorruptFileError(path, "no frame could be decoded "
                                       f"({exc.strerror or exc})") from None
            # a damaged tail: keep what was read
        if n == 0:
            raise CorruptFileError(path, "the video stream holds no decodable frame")
    finally:
        c.close()


def keyframe_times(path: str | Path) -> np.ndarray:
    """Times of the clip's key frames, read from its packets without decoding.

    At a key frame the encoder codes the whole picture afresh, so its compression noise changes
    at once everywhere: the frame pair that ends on it shows a brief apparent movement of every
    textured surface (:mod:`hypsa.video.motion` takes such pairs' movement from their
    neighbours).

    Parameters
    ----------
    path : str or Path
        Video file.

    Returns
    -------
    ndarray of float
        Seconds from the first frame (the clock of :func:`iter_frames`), sorted; the first
        frame's own key frame is left out. Empty when the container marks none.

    Raises
    ------
    FileAccessError, CorruptFileError, UnsupportedFormatError
        As :func:`probe`.
    """
    path = Path(path)
    c = _open(path)
    av = _av()
    pts: list[int] = []
    key: list[bool] = []
    try:
        s = c.streams.video[0]
        tb = s.time_base
        try:
            for p in c.demux(s):
                if p.pts is None or p.size == 0:
                    continue
                pts.append(int(p.pts))
                key.append(bool(p.is_keyframe))
        except av.error.FFmpegError:
            pass  # a damaged tail: the key frames before it
    finally:
        c.close()
    if not pts or tb is None:
        return np.zeros(0)
    t = (np.asarray(pts, dtype=float) - min(pts)) * float(tb)
    k = np.asarray(key, dtype=bool)
    return np.sort(t[k & (t > 0)])


def iter_frames(path: str | Path, *, width: int = 160, max_fps: float = 15.0,
                fmt: str = "gray") -> Iterator[tuple[float, np.ndarray]]:
    """Stream frames as small images with their times.

    Parameters
    ----------
    path : str or Path
        Video file.
    width : int
        Width of the returned images (height keeps the aspect ratio); smaller clips are kept as
        they are.
    max_fps : float
        Highest rate kept: frames closer than ``1 / max_fps`` to the last kept one are decoded but
        not converted.
    fmt : {"gray", "rgb24"}
        Pixel format of the returned images.

    Yields
    ------
    t_s : float
        Presentation time from the first frame (s).
    image : ndarray of uint8, shape (h, w) or (h, w, 3)
    """
    step = 1.0 / max_fps if max_fps > 0 else 0.0

    def kept():
        last = -np.inf
        for t, convert in _decode(Path(path), width):
            if t - last < step * 0.999:
                continue
            last = t
            yield t, convert(fmt)

    yield from _ahead(kept(), 16)


def _ahead(gen, n: int):
    """Run a generator in a thread, at most ``n`` items ahead of the consumer.

    Decoding (FFmpeg) and the consumer's work (OpenCV) both release the interpreter's lock, so
    on two cores they overlap; memory stays bounded by ``n`` small frames. An exception in the
    generator is raised in the consumer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=n)
    stop = threading.Event()
    end = object()

    def run():
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            q.put((end, None))
        except BaseException as exc:  # handed to the consumer
            q.put((end, exc))
        finally:
            gen.close()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item[0] is end:
                if item[1] is not None:
                    raise item[1]
                return
            yield item
    finally:
        stop.set()
        while th.is_alive():  # let the thread see the stop and close the file
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass


def grab_frames(path: str | Path, times_s: list[float], *, width: int = 240) -> list[np.ndarray]:
    """Colour frames nearest to the given times, in one pass over the clip.

    Parameters
    ----------
    path : str or Path
        Video file.
    times_s : list of float
        Times from the first frame (s).
    width : int
        Width of the returned images.

    Returns
    -------
    list of ndarray of uint8, shape (h, w, 3)
        One RGB image per requested time, in the order given.
    """
    want = np.asarray(times_s, dtype=float)
    order = np.argsort(want)
    res: list[np.ndarray] = [np.zeros((2, 2, 3), np.uint8) for _ in range(len(want))]
    k = 0
    prev = None
    for t, convert in _decode(Path(path), width):
        if k >= len(order):
            break
        if t >= want[order[k]]:
            img = convert("rgb24")
            while k < len(order) and t >= want[order[k]]:
                res[order[k]] = img
                k += 1
        prev = convert
    while k < len(order) and prev is not None:
        res[order[k]] = prev("rgb24")
        k += 1
    return res
