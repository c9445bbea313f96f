// hypsa review page: the recording's video beside the EEG, in step with the viewer's cursor,
// and the frames of each event in the review list (vanilla JS, no libraries).
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const el = (id) => document.getElementById(id);
  const rid = location.pathname.split("/")[2];
  const msg = el("video-msg");
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // attach, replace or remove the video (a new analysis is queued either way)
  const form = el("video-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = el("video-file").files[0];
    if (!f) return;
    const fd = new FormData();
    fd.append("video", f, f.name);
    fd.append("video_offset", el("video-offset").value);
    msg.className = "hint"; msg.textContent = `${f.name}: uploading…`;
    const res = await fetch(`/api/recordings/${rid}/video`, { method: "POST", body: fd, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { msg.className = "error"; msg.textContent = data.detail || res.statusText; return; }
    location.reload();
  });
  const del = el("video-delete");
  if (del) del.addEventListener("click", async () => {
    if (!window.confirm("Remove the video of this recording? A new analysis without it is queued.")) return;
    const res = await fetch(`/api/recordings/${rid}/video`, { method: "DELETE", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { msg.className = "error"; msg.textContent = data.detail || res.statusText; return; }
    location.reload();
  });

  const V = window.hypsaViewer, v = el("video"), panel = el("video-panel");
  if (!V || !v || !panel) return;
  const off = parseFloat(panel.dataset.offset);
  const pos = el("video-pos");

  function show() {
    panel.dataset.time = v.currentTime.toFixed(3);
    pos.textContent = `video ${v.currentTime.toFixed(2)} s = recording ${(off + v.currentTime).toFixed(2)} s`;
  }
  // EEG -> video: the cursor (page turns, spasm jumps, clicks) seeks the video to the aligned time
  function seekTo(t) {
    const vt = t - off;
    const covered = vt >= 0 && (!isFinite(v.duration) || vt <= v.duration);
    panel.classList.toggle("outside", !covered);
    if (!covered) { pos.textContent = `the video does not cover ${t.toFixed(1)} s of the recording`; return; }
    if (v.readyState < 1) return;  // seeked once the metadata is in (loadedmetadata)
    if (Math.abs(v.currentTime - vt) > 0.04) v.currentTime = vt;
    show();
  }
  V.onCursor((t, source) => { if (source !== "video") seekTo(t); });
  v.addEventListener("loadedmetadata", () => { if (V.cursor() !== null) seekTo(V.cursor()); });
  // video -> EEG: seeking or playing the video moves the cursor, turning pages as it goes
  const follow = () => { show(); panel.classList.remove("outside"); V.setCursor(off + v.currentTime, "video"); };
  v.addEventListener("seeked", follow);
  v.addEventListener("timeupdate", () => { if (!v.paused) follow(); });
  let raf = 0, last = 0;
  const tick = (now) => {
    if (v.paused || v.ended) return;
    if (now - last > 100) { last = now; follow(); }
    raf = requestAnimationFrame(tick);
  };
  v.addEventListener("play", () => { cancelAnimationFrame(raf); raf = requestAnimationFrame(tick); });
  v.addEventListener("error", () => {
    pos.className = "error";
    pos.textContent = "This browser cannot play this video's format; its movement was still analysed and the frames of each event are in the review list.";
  });

  // the frames before, at and after each event, in the review list
  let frames = null;
  function addFrames() {
    if (!frames) return;
    for (const id of ["events", "decrements"]) {
      const t = el(id);
      if (!t) continue;
      const head = t.querySelector("thead tr");
      if (head && !head.querySelector("th.vframes")) head.insertAdjacentHTML("beforeend", '<th class="vframes">Video</th>');
      t.querySelectorAll("tbody tr[data-key]").forEach((tr) => {
        if (tr.querySelector("td.vframes")) return;
        const f = frames[tr.dataset.key] || [];
        const td = document.createElement("td");
        td.className = "vframes";
        td.innerHTML = f.filter(([, uri]) => String(uri).startsWith("data:image/jpeg;base64,"))
          .map(([label, uri]) => `<img class="vframe" src="${esc(uri)}" alt="${esc(label)}" title="${esc(label)}">`).join("");
        tr.appendChild(td);
      });
    }
  }
  V.onRender(addFrames);
  fetch(`/api/recordings/${rid}/video/frames`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : { events: {} }))
    .then((d) => { frames = d.events || {}; addFrames(); })
    .catch(() => {});
})();
