"""Video: reading, movement, events, page, CLI and video-EEG on short simulated clips."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("av")
pytest.importorskip("cv2")

from typer.testing import CliRunner  # noqa: E402

from hypsa.cli import app  # noqa: E402
from hypsa.errors import CorruptFileError, FileAccessError, ParameterError  # noqa: E402
from hypsa.video import analyze_video, statement  # noqa: E402
from hypsa.video.align import place  # noqa: E402
from hypsa.video.events import EventParams, detect_events, find_clusters  # noqa: E402
from hypsa.video.motion import MotionParams, measure_motion  # noqa: E402
from hypsa.video.read import grab_frames, iter_frames, probe  # noqa: E402
from hypsa.video.simulate import simulate_video, truth_path  # noqa: E402

runner = CliRunner()

SPASMS = pd.DataFrame({"onset": [6.0, 14.0, 22.0, 30.0], "duration": [1.4, 1.2, 1.6, 1.0],
                       "cluster": [0, 0, 0, 0]})


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """40 s, 192x108, 15 fps, fixed camera, four symmetric-or-not spasms 8 s apart."""
    p = tmp_path_factory.mktemp("video") / "clip.mp4"
    simulate_video(p, 40 / 60, width=192, height=108, fps=15, spasms=SPASMS, seed=3)
    return p


def _write(path: Path, frames, fps: int = 15) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height = frames[0].shape[1], frames[0].shape[0]
        s.pix_fmt = "yuv420p"
        for f in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    t = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 2.0)
    return np.clip((t - t.mean()) * 4 + 128, 0, 255).astype(np.uint8)


def test_probe_and_frames(clip):
    info = probe(clip)
    assert (info.width, info.height) == (192, 108)
    assert info.creation_time == datetime(2024, 1, 1, 9, 0, 0)
    assert 38 < info.duration_s < 42
    ts = [t for t, _ in iter_frames(clip, width=96, max_fps=5)]
    assert 190 < len(ts) < 210 and np.all(np.diff(ts) >= 0.19)
    imgs = grab_frames(clip, [10.0, 1.0], width=64)
    assert imgs[0].shape[1] == 64 and imgs[0].shape[2] == 3
    assert not np.array_equal(imgs[0], imgs[1])


def test_simulated_spasms_found_and_clustered(clip):
    res = analyze_video(clip)
    truth = pd.read_csv(truth_path(clip), sep="\t")
    assert (truth["trial_type"] == "spasm").sum() == 4
    assert res.track.subject
    found = [any(abs(o - e) < 1.0 for e in res.events["onset"]) for o in SPASMS["onset"]]
    assert sum(found) >= 3
    assert len(res.clusters) == 1
    assert "cluster" in res.statement() and "not a diagnosis" in res.statement()


def test_outputs_and_page(clip, tmp_path):
    res = analyze_video(clip)
    paths = res.save(tmp_path, blur_faces=True)
    ev = pd.read_csv(paths["events"], sep="\t")
    assert list(ev.columns[:3]) == ["onset", "duration", "trial_type"]
    js = json.loads(paths["summary"].read_text())
    assert js["n_events"] + js["n_isolated"] == len(ev) and js["moving_subject"] is True
    assert js["footage"]["camera"] == "steady" and js["footage"]["notes"] == []
    page = paths["page"].read_text()
    assert "<img" in page and "http" not in page.replace("http-equiv", "")
    assert "not a diagnosis" in page or "does\nnot diagnose" in page
    assert "finding nothing here does not mean there were no spasms" in " ".join(page.split())
    p2 = res.save(tmp_path / "nf", frames=False)["page"].read_text()
    assert "<img" not in p2 and "<svg" in p2


def test_blur_changes_skin_only():
    from hypsa.video.page import blur_skin

    img = np.zeros((60, 80, 3), np.uint8)
    img[:] = (40, 90, 200)          # blue background (not skin)
    img[20:40, 30:50] = (224, 172, 140)  # skin tone
    img[28:32, 36:44] = (60, 30, 30)     # a feature inside the face
    out = blur_skin(img)
    assert not np.array_equal(out[20:40, 30:50], img[20:40, 30:50])
    assert np.array_equal(out[:5, :5], img[:5, :5])


def test_camera_motion_and_light_change_are_not_events(tmp_path):
    base = _texture(160, 240)
    frames = []
    rng = np.random.default_rng(1)
    for i in range(150):  # 10 s: slow pan, shake, a sudden jerk of the phone, a light switch
        dx = 20 + 10 * np.sin(i / 20) + rng.normal(0, 0.7) + (12 if 70 <= i < 75 else 0)
        dy = 15 + 5 * np.cos(i / 25) + rng.normal(0, 0.7)
        f = base[int(dy):int(dy) + 108, int(dx):int(dx) + 192].astype(np.float32)
        f *= 1.4 if i >= 100 else 1.0
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    p = _write(tmp_path / "pan.mp4", frames)
    res = analyze_video(p)
    assert len(res.events) == 0
    assert res.track.signals["camera"].max() > 5 * res.track.signals["body"].median()


def test_still_video_has_no_moving_subject(tmp_path):
    f = _texture(108, 192)
    p = _write(tmp_path / "still.mp4", [f] * 45)
    res = analyze_video(p)
    assert not res.track.subject
    assert "No moving subject" in res.statement()
    r = runner.invoke(app, ["video", str(p), "--out", str(tmp_path / "o"), "--no-frames"])
    assert r.exit_code == 0 and "No moving subject" in r.output


def test_given_region(clip):
    tr = measure_motion(clip, MotionParams(region=(40, 10, 110, 90)))
    assert tr.regions[0]["found"] and abs(tr.regions[0]["x"] - 40) < 12


def test_bad_inputs(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(CorruptFileError):
        probe(bad)
    with pytest.raises(FileAccessError):
        probe(tmp_path / "missing.mp4")
    r = runner.invoke(app, ["video", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    err = r.stderr if hasattr(r, "stderr") else r.output
    assert err.strip().count("\n") == 0 and "broken.mp4" in err
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    r = runner.invoke(app, ["video", str(txt)])
    assert r.exit_code == 2
    r = runner.invoke(app, ["video", str(bad), "--region", "1,2,3"])
    assert r.exit_code == 2 and "--region" in r.output
    with pytest.raises(ParameterError):
        MotionParams(width=8)


def _track(body: np.ndarray, light: np.ndarray, frame_s: float = 0.125):
    """A motion track with the given body movement (both sides and halves alike) and light."""
    from hypsa.video.motion import SIGNALS, MotionTrack
    from hypsa.video.read import VideoInfo

    n = body.size
    sig = pd.DataFrame({c: np.zeros(n) for c in SIGNALS})
    for c in ("body", "left", "right", "upper", "lower"):
        sig[c] = body
    sig["coherence"] = 0.1
    sig["light"] = light
    sig["covered"] = True
    info = VideoInfo(Path("synthetic.mp4"), 320, 180, 1 / frame_s, n * frame_s, "h264", None, 0)
    return MotionTrack(info, frame_s, sig, [], True)


def test_light_is_judged_against_the_clips_own_flicker():
    rng = np.random.default_rng(0)
    n = 480  # 60 s at 8 frames a second
    body = 0.01 + 0.002 * rng.random(n)
    body[200:206] += np.r_[0.05, 0.2, 0.15, 0.12, 0.2, 0.05]  # one sudden movement at 25 s
    flicker = 55.0 + 5.0 * rng.random(n)  # a dim room's steady flicker of the mean brightness
    p = EventParams(min_series=1)
    ev = detect_events(_track(body, flicker), p)
    assert len(ev) == 1 and abs(ev["onset"].iloc[0] - 25.0) < 0.5
    switched = flicker.copy()
    switched[201:204] += 300.0  # the light itself changes with the movement
    assert len(detect_events(_track(body, switched), p)) == 0


def test_footage_quality_names_a_moving_camera_and_a_child_not_found_apart():
    from hypsa.video import footage_quality

    n = 480
    body, light = np.full(n, 0.01), np.zeros(n)
    steady = _track(body, light)
    q = footage_quality(steady)
    assert q["camera"] == "steady" and q["notes"] == []
    shaky = _track(body, light)
    shaky.signals["camera"] = 0.04  # body-lengths per second, all through the clip
    q = footage_quality(shaky)
    assert q["camera"] == "hand-held" and "hand-held" in q["notes"][0]
    whole = _track(body, light)
    whole.regions.append({"onset": 0.0, "duration": 60.0, "x": 0, "y": 0, "w": 320, "h": 180,
                          "axis": "horizontal", "found": True})
    q = footage_quality(whole)
    assert q["region_fraction"] == 1.0 and "could not be told apart" in q["notes"][0]


def test_clusters_need_three_close_events():
    p = EventParams(cluster_gap_s=60, min_cluster=3)
    on = np.array([10.0, 20.0, 35.0, 300.0, 500.0, 510.0])
    assert find_clusters(on, p).tolist() == [0, 0, 0, -1, -1, -1]
    none = statement(pd.DataFrame(columns=["onset"]), True)
    assert none.startswith("No sudden") and "head nod" in none and "does not rule" in none


def test_place_by_clock_offset_or_assumed():
    start = datetime(2024, 1, 1, 9, 0, 0)
    off, m, _ = place(start, datetime(2024, 1, 1, 9, 0, 30), None, 600, 100)
    assert (off, m) == (30.0, "clock times")
    off, m, _ = place(start, datetime(2024, 1, 1, 9, 0, 30), 12.5, 600, 100)
    assert (off, m) == (12.5, "given offset")
    off, m, text = place(None, None, None, 600, 100)
    assert m == "assumed" and "--video-offset" in text
    with pytest.raises(ParameterError):
        place(start, datetime(2024, 1, 2, 9, 0, 0), None, 600, 100)


def test_cli_simulate_then_video(tmp_path):
    out = tmp_path / "s.mp4"
    r = runner.invoke(app, ["simulate-video", str(out), "--minutes", "0.25", "--size", "160x90",
                            "--fps", "15", "--handheld", "--portrait", "--seed", "4"])
    assert r.exit_code == 0, r.output
    assert probe(out).height == 160
    assert truth_path(out).exists()
    r = runner.invoke(app, ["video", str(out), "--out", str(tmp_path / "o"), "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "s.video_events.tsv").exists()


@pytest.mark.slow
def test_video_eeg_end_to_end(tmp_path):
    """Simulated EEG and video with the same spasms: the movement channel enters the detector
    and the summary says how the clip was placed."""
    vid = tmp_path / "rec.mp4"
    sim = simulate_video(vid, 1.0, width=160, height=90, fps=15, eeg=tmp_path / "rec.edf",
                         n_clusters=1, seed=5)
    truth = pd.read_csv(sim.eeg.with_name("rec_events.tsv"), sep="\t")
    n_true = int((truth["eventType"] == "sz_gen_m_spasms").sum())
    assert n_true == len(sim.spasms) and n_true > 0
    r = runner.invoke(app, ["analyze", str(sim.eeg), "--video", str(vid), "--out",
                            str(tmp_path / "o"), "-j", "1", "--no-report"])
    assert r.exit_code == 0, r.output
    js = json.loads((tmp_path / "o" / "rec.summary.json").read_text())
    assert js["video"]["clips"][0]["method"] == "clock times"
    assert "clock times" in r.output
    assert js["spasms"]["movement_channel"] == "video"  # the count is read as EEG with video
    assert isinstance(js["video"]["movements_without_eeg_spasm"], list)
    assert isinstance(js["video"]["spasms_on_movement"], int)
    assert "movement channel (video)" in js["spasms"]["detection_note"]
    assert (tmp_path / "o" / "rec.video_events.tsv").exists()
    r = runner.invoke(app, ["analyze", str(sim.eeg), "--video", str(vid), "--video-offset",
                            "1e6", "--out", str(tmp_path / "o2")])
    assert r.exit_code == 2 and "overlap" in r.output


def test_video_movements_without_a_spasm_are_listed_not_counted():
    from hypsa.results import movement_text, video_text
    from hypsa.spasm_movement import movements_without_spasm

    moves = [{"onset": 100.0, "duration": 1.0, "confidence": 0.9, "clip": 0},
             {"onset": 200.0, "duration": 1.2, "confidence": 0.8, "clip": 0}]
    events = pd.DataFrame({"onset": [101.0, 200.5], "duration": [1.0, 2.0],
                           "trial_type": ["spasm_eeg_movement", "eeg_decrement"]})
    alone = movements_without_spasm(moves, events)
    assert [m["onset"] for m in alone] == [200.0]  # a decrement is not a spasm
    assert movements_without_spasm(moves, events.iloc[:0]) == moves
    text = movement_text(alone)
    assert text.startswith("Video: 1 sudden symmetric movement recurring") and "200 s" in text
    assert "not counted" in text
    both = video_text({"spasms_on_movement": 3, "movements_without_eeg_spasm": alone})
    assert both.startswith("Video: 3 of the counted spasms were seen") and text in both
    assert video_text({"spasms_on_movement": 0, "movements_without_eeg_spasm": []}) == ""


def test_movement_window_fills_uncovered_frames():
    from hypsa.video.align import Movement

    env = np.full(800, np.nan)
    env[100:500] = 1.0
    env[300] = 9.0
    mv = Movement(0.125, env)
    w = mv.window(30.0, 70.0)  # frames 240-560: partly covered
    assert w.shape == (320,) and np.isfinite(w).all() and w.max() == 9.0
    assert np.all(w[-50:] == 1.0)  # uncovered frames take the covered median
    assert mv.window(80.0, 95.0) is None  # no clip there
    assert mv.__getstate__()["tracks"] == []


def test_cached_cells_rebuild_the_same_track(clip):
    from hypsa.video.motion import track_from_cells

    blocks: list = []
    tr = measure_motion(clip, cells_out=blocks)
    again = track_from_cells(tr.info, blocks)
    assert len(blocks) == 1 and again.regions == tr.regions
    pd.testing.assert_frame_equal(again.signals, tr.signals)


def test_movement_floor_and_region_against_camera_noise():
    """A hand-held camera leaves some movement everywhere: the body region is still the patch
    that moves, and the picture's floor does not read as movement outside the body."""
    from hypsa.video.motion import CellBlock, _Accumulator, track_from_cells
    from hypsa.video.read import VideoInfo

    rng = np.random.default_rng(0)
    n, gh, gw = 800, 11, 20
    acc = _Accumulator(n, gh, gw)
    acc.cells[..., 2] = rng.uniform(0.1, 0.3, (n, gh, gw))  # residual camera noise everywhere
    acc.cells[..., 3] = rng.uniform(0.01, 0.03, (n, gh, gw))
    move = rng.random(n) < 0.3  # the body (rows 2-8, columns 6-13) moves now and then
    acc.cells[move, 2:9, 6:14, 2] += rng.uniform(0.5, 3.0, (int(move.sum()), 7, 8))
    acc.count[:] = 1
    acc.dt[:] = 0.125
    info = VideoInfo(Path("x.mp4"), 320, 176, 15.0, 100.0, "h264", None, 0)
    tr = track_from_cells(info, [CellBlock(0, n, 0.5, acc)])
    reg = tr.regions[0]
    assert reg["found"] and 80 <= reg["x"] <= 112 and reg["x"] + reg["w"] >= 208
    s = tr.signals
    assert s["outside"].median() < 0.1 * s["body"][move].median()


def test_movement_in_step_with_a_hand_held_camera_is_taken_off():
    """A high-contrast patch (a blanket's grid) shows residual flow in step with the camera's
    shake: that part is taken off; the body's own brief movement stays; a fixed camera's cells
    are left as measured."""
    from hypsa.video.motion import SHAKE_K, _Accumulator, _without_shake

    rng = np.random.default_rng(1)
    n, gh, gw = 800, 11, 20
    acc = _Accumulator(n, gh, gw)
    acc.count[:] = 2
    acc.dt[:] = 0.125
    cam = rng.uniform(0.2, 1.0, n).astype(np.float32)  # px per frame, summed over the frame
    acc.camera[:] = cam
    acc.cells[..., 2] = 0.01
    acc.cells[:, 0:4, 0:5, 2] += 0.4 * cam[:, None, None]  # the grid under the shake
    burst = np.zeros(n, np.float32)
    burst[300:310] = 1.0
    acc.cells[:, 5:8, 8:12, 2] += burst[:, None, None]  # the body's spasm
    out = _without_shake(acc, 0, n)
    grid_before = acc.cells[:, 0:4, 0:5, 2].std()
    assert out[:, 0:4, 0:5, 2].std() < (1 - 0.8 * SHAKE_K) * grid_before
    np.testing.assert_allclose(out[300:310, 5:8, 8:12, 2], acc.cells[300:310, 5:8, 8:12, 2],
                               rtol=0.05)
    acc.camera[:] = cam * 1e-3  # a fixed camera: nothing is taken off
    assert np.array_equal(_without_shake(acc, 0, n), acc.cells)


def _track_with_burst(left, right, coherence: float = 0.2):
    """60 s of quiet movement with one burst given per side (frames of 0.125 s)."""
    from hypsa.video.motion import SIGNALS, MotionTrack
    from hypsa.video.read import VideoInfo

    rng = np.random.default_rng(2)
    n = 480
    base = 0.01 + 0.002 * rng.random(n)
    sig = {c: np.zeros(n) for c in SIGNALS}
    sig["left"], sig["right"] = base + left, base + right
    sig["upper"] = sig["lower"] = (sig["left"] + sig["right"]) / 2
    sig["body"] = np.maximum(sig["left"], sig["right"])
    sig["coherence"] = np.full(n, coherence)
    sig["change_body"] = 2.0 * sig["body"]
    df = pd.DataFrame(sig)
    df["covered"] = True
    info = VideoInfo(Path("x.mp4"), 320, 180, 15.0, 60.0, "h264", None, 0)
    return MotionTrack(info, 0.125, df)


def test_events_need_both_sides_together_and_not_moved_whole():
    from hypsa.video.events import EVENT_TYPE, ISOLATED_TYPE, detect_events

    burst = np.zeros(480)
    burst[200:210] = np.hanning(10) * 0.3
    ev = detect_events(_track_with_burst(burst, burst))
    assert len(ev) == 1 and abs(ev["onset"][0] - 25.0) < 0.5
    # alone it is set apart (a startle looks the same); recurring 20 s and 40 s later, a series
    assert ev["trial_type"][0] == ISOLATED_TYPE and ev["cluster"][0] == -1
    three = burst + np.roll(burst, 160) + np.roll(burst, 320)
    ev = detect_events(_track_with_burst(three, three))
    assert len(ev) == 3 and set(ev["trial_type"]) == {EVENT_TYPE}
    two = burst + np.roll(burst, 160)
    ev = detect_events(_track_with_burst(two, two))
    assert len(ev) == 2 and set(ev["trial_type"]) == {ISOLATED_TYPE}
    # the same movement, one side after the other (a kick, a hand passing over)
    late = np.roll(burst, 6)
    ev = detect_events(_track_with_burst(burst, late), all_candidates=True)
    assert len(ev) >= 1 and ev["confidence"].max() < 0.5 and "synchrony" in set(ev["weakest"])
    # both sides together but the body moved whole (handled, carried)
    ev = detect_events(_track_with_burst(burst, burst, coherence=0.95), all_candidates=True)
    assert ev["confidence"].max() < 0.5 and set(ev["weakest"]) == {"whole"}


def test_envelope_gated_by_the_clips_own_candidates():
    """The movement channel for the spasm detector holds the shared movement only inside the
    clip's sudden-movement candidates (isolated ones included) and the floor elsewhere: an
    alternating kick or a long movement of the whole body is no burst."""
    from hypsa.video.events import detect_events
    from hypsa.video.motion import ENVELOPE_FLOOR

    burst = np.zeros(480)
    burst[200:210] = np.hanning(10) * 0.3
    kick_l, kick_r = np.zeros(480), np.zeros(480)
    kick_l[320:328], kick_r[328:336] = 0.3, 0.3  # one side after the other
    carried = np.zeros(480)
    carried[380:460] = 0.1  # both sides for 10 s: handled or carried, not brief
    tr = _track_with_burst(burst + kick_l + carried, burst + kick_r + carried)
    cand = detect_events(tr, all_candidates=True)
    inside = cand[cand["confidence"] >= 0.5]
    assert len(inside) == 1 and abs(inside["onset"].iloc[0] - 25.0) < 0.5
    raw = tr.envelope(gated=False)
    env = tr.envelope()
    assert env.shape == raw.shape == (480,)
    a = int(round(inside["onset"].iloc[0] / 0.125))
    b = a + int(round(inside["duration"].iloc[0] / 0.125))
    np.testing.assert_allclose(env[a:b], raw[a:b])
    assert env[a:b].max() > 10 * ENVELOPE_FLOOR
    rest = np.ones(480, bool)
    rest[a:b] = False
    assert np.all(env[rest] == ENVELOPE_FLOOR)
    assert raw[rest].max() > 10 * ENVELOPE_FLOOR  # the ungated channel carried the long one
    # no candidate at all: the floor throughout
    flat = _track_with_burst(np.zeros(480), np.zeros(480)).envelope()
    assert np.all(flat == ENVELOPE_FLOOR)


def test_series_and_statement_of_isolated_movements():
    from hypsa.video.events import EVENT_TYPE, ISOLATED_TYPE, in_series

    p = EventParams(series_gap_s=60, min_series=2, series_confidence=0.3)
    on = np.array([10.0, 50.0, 200.0, 400.0, 430.0])
    conf = np.array([0.9, 0.9, 1.0, 0.8, 0.2])  # the last is too weak to make a series
    assert in_series(on, conf, p).tolist() == [True, True, False, False, False]
    assert in_series(on, conf, EventParams(min_series=1)).all()
    ev = pd.DataFrame({"onset": [5.0, 300.0], "duration": [1.0, 1.0], "cluster": [-1, -1],
                       "trial_type": [ISOLATED_TYPE, ISOLATED_TYPE]})
    assert statement(ev, True).startswith("2 isolated sudden movements")
    ev["trial_type"] = [EVENT_TYPE, ISOLATED_TYPE]
    assert statement(ev, True).startswith("1 sudden symmetric movement (and 1 isolated one")


def test_dim_condition_draws_the_clip_another_way(tmp_path):
    a = simulate_video(tmp_path / "a.mp4", 0.05, width=96, height=64, fps=15, seed=2)
    b = simulate_video(tmp_path / "b.mp4", 0.05, width=96, height=64, fps=15, seed=2,
                       condition="dim")
    fa = grab_frames(a.video, [1.0], width=96)[0].astype(float)
    fb = grab_frames(b.video, [1.0], width=96)[0].astype(float)
    assert fb.mean() < 0.8 * fa.mean() and fb.std() < fa.std()
    assert b.params["condition"] == "dim" and b.params["crf"] >= 31
    with pytest.raises(ParameterError):
        simulate_video(tmp_path / "c.mp4", 0.05, condition="sunny")


def test_region_of_a_child_filling_most_of_the_picture(monkeypatch):
    """Filmed from close (a phone in portrait), the moving child covers most of the picture: the
    region still spans it, not a patch of it."""
    import hypsa.video.motion as vm
    from hypsa.video.motion import CellBlock, _Accumulator, track_from_cells
    from hypsa.video.read import VideoInfo

    rng = np.random.default_rng(1)
    n, gh, gw = 400, 20, 11
    acc = _Accumulator(n, gh, gw)
    acc.cells[..., 2] = rng.uniform(0.02, 0.06, (n, gh, gw))
    # the body covers rows 3-13 and columns 1-9 (60 % of the picture's inner cells); its parts
    # move at different times and by different amounts (arms above, kicks below)
    for r0, r1, c0, c1, amp in ((3, 7, 1, 10, 0.6), (7, 10, 1, 10, 0.3), (10, 14, 1, 10, 1.0)):
        move = rng.random(n) < 0.3
        acc.cells[move, r0:r1, c0:c1, 2] += amp * rng.uniform(0.5, 1.5, (int(move.sum()),
                                                                         r1 - r0, c1 - c0))
    acc.count[:] = 1
    acc.dt[:] = 0.125
    info = VideoInfo(Path("x.mp4"), 144, 256, 15.0, 50.0, "h264", None, 0)
    reg = track_from_cells(info, [CellBlock(0, n, 0.625, acc)]).regions[0]
    assert reg["found"] and reg["h"] >= 11 * 256 / 20 and reg["w"] >= 9 * 144 / 11
    monkeypatch.setattr(vm, "REGION_NOISE_Q", 50.0)  # the median as the noise: a patch only
    reg = track_from_cells(info, [CellBlock(0, n, 0.625, acc)]).regions[0]
    assert not reg["found"] or reg["h"] < 11 * 256 / 20


def test_key_frames_found_and_their_frame_pairs_masked(tmp_path):
    """A still textured picture encoded with a key frame every 2 s: the key frames are read from
    the packets, and the brief apparent movement of the pairs ending on them is taken out."""
    import av

    from hypsa.video.read import keyframe_times

    base = _texture(108, 192, seed=3)
    rng = np.random.default_rng(0)
    p = tmp_path / "gop.mp4"
    with av.open(str(p), "w") as c:
        s = c.add_stream("libx264", rate=15)
        s.width, s.height = 192, 108
        s.pix_fmt = "yuv420p"
        s.options = {"crf": "35", "g": "30", "keyint_min": "30", "sc_threshold": "0"}
        for _ in range(300):  # 20 s; a small patch flickers so the picture is not all still
            f = base.copy()
            f[40:60, 80:110] = np.clip(f[40:60, 80:110] + rng.normal(0, 12), 0, 255)
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    kt = keyframe_times(p)
    assert 8 <= kt.size <= 10 and np.allclose(np.diff(kt), 2.0, atol=0.01)
    with pytest.raises(FileAccessError):
        keyframe_times(tmp_path / "none.mp4")
    import hypsa.video.motion as vm

    on = measure_motion(p).signals
    idx = ((kt - 0.5 / 15) // 0.125).astype(int)
    vm_keyframes = vm.KEYFRAMES
    try:
        vm.KEYFRAMES = False
        off = measure_motion(p).signals
    finally:
        vm.KEYFRAMES = vm_keyframes
    others = np.setdiff1d(np.arange(len(on)), idx)
    assert np.allclose(on["body"].to_numpy()[others], off["body"].to_numpy()[others])
    # unmasked, the whole picture seems to move at each key frame; masked, no more than usual
    usual = off["floor"].to_numpy()[others].mean()
    assert off["floor"].to_numpy()[idx].mean() > 3 * usual
    assert on["floor"].to_numpy()[idx].mean() < 2 * usual
