// hypsa reader-study page: a blinded EEG viewer (no machine or other readers' marks), the
// reader's own spasm marks and score (vanilla JS, no libraries).
"use strict";
(function () {
  const canvas = document.getElementById("eeg");
  if (!canvas) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const sid = canvas.dataset.study, iid = canvas.dataset.item;
  const total = parseFloat(canvas.dataset.duration);
  const ctx = canvas.getContext("2d");
  const el = (id) => document.getElementById(id);
  const state = { start: 0, data: null, marks: [] };
  const LEFT = 80, PX_PER_MM = 4;
  const api = `/api/studies/${sid}/items/${iid}`;
  const span = () => parseFloat(el("span").value);

  async function load() {
    const q = new URLSearchParams({ start: state.start.toFixed(3), duration: span(), montage: el("montage").value, max_points: 1500 });
    const res = await fetch(`${api}/window?${q}`, { credentials: "same-origin" });
    if (!res.ok) { el("pos").textContent = `could not load EEG (${res.status})`; return; }
    state.data = await res.json();
    state.start = state.data.start;
    draw();
  }

  function draw() {
    const d = state.data; if (!d) return;
    const W = canvas.width, H = canvas.height, n = d.channels.length;
    ctx.clearRect(0, 0, W, H);
    const pxs = (W - LEFT) / d.duration;
    const x = (t) => LEFT + (t - d.start) * pxs;
    ctx.fillStyle = "rgba(31,95,191,0.18)";  // the reader's own marks only
    for (const m of state.marks) {
      if (m.onset + m.duration < d.start || m.onset > d.start + d.duration) continue;
      ctx.fillRect(x(m.onset), 0, Math.max(2, m.duration * pxs), H);
    }
    hypsaPlot.seconds(ctx, d, x, H);
    const gap = (H - 16) / (n + 1);
    const uvPerPx = parseFloat(el("gain").value) / PX_PER_MM;
    ctx.strokeStyle = "#1d2330";
    hypsaPlot.channels(ctx, d, x, gap, uvPerPx);
    el("pos").textContent = `${d.start.toFixed(1)}–${(d.start + d.duration).toFixed(1)} s of ${total.toFixed(0)} s`;
  }

  function show(mine) {
    state.marks = mine.marks;
    el("marks").querySelector("tbody").innerHTML = mine.marks.map((m) =>
      `<tr><td><a href="#" class="jump" data-t="${m.onset}">${m.onset.toFixed(2)} s</a></td><td>${m.duration.toFixed(2)} s</td>` +
      `<td><button type="button" class="act reject" data-mark="${m.id}">Remove</button></td></tr>`).join("") ||
      '<tr><td colspan="3">No spasm marked.</td></tr>';
    const s = mine.score;
    el("grade").value = s.grade === null ? "" : String(s.grade);
    el("hyps").value = s.hypsarrhythmia === null ? "" : (s.hypsarrhythmia ? "yes" : "no");
    el("comment").value = s.comment || "";
    el("done").checked = !!s.done;
    draw();
  }

  async function post(path, body) {
    const res = await fetch(`${api}${path}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { el("msg").textContent = data.detail || res.statusText; el("msg").className = "error"; return; }
    el("msg").textContent = "Saved."; el("msg").className = "hint";
    show(data);
  }

  function jumpTo(t) { state.start = Math.max(0, Math.min(total - span(), t - span() / 3)); load(); }
  el("marks").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-mark]");
    if (b) { post(`/marks/${b.dataset.mark}/delete`); return; }
    const j = ev.target.closest("a.jump");
    if (j) { ev.preventDefault(); jumpTo(parseFloat(j.dataset.t)); }
  });
  el("mark-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    post("/marks", { onset: parseFloat(el("mark-onset").value), duration: parseFloat(el("mark-duration").value) });
  });
  el("score-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    post("/score", { grade: el("grade").value, hypsarrhythmia: el("hyps").value, comment: el("comment").value, done: el("done").checked });
  });
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    const px = (ev.clientX - r.left) * canvas.width / r.width;
    if (!state.data || px < LEFT) return;
    el("mark-onset").value = (state.data.start + (px - LEFT) / ((canvas.width - LEFT) / state.data.duration)).toFixed(2);
  });
  for (const id of ["montage", "span"]) el(id).addEventListener("change", load);
  el("gain").addEventListener("change", draw);
  el("prev-page").addEventListener("click", () => { state.start = Math.max(0, state.start - span()); load(); });
  el("next-page").addEventListener("click", () => { state.start = Math.min(Math.max(0, total - span()), state.start + span()); load(); });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, select, textarea")) return;
    if (ev.key === "ArrowRight") el("next-page").click();
    if (ev.key === "ArrowLeft") el("prev-page").click();
  });
  fetch(api, { credentials: "same-origin" }).then((r) => r.json()).then((mine) => { show(mine); load(); });
})();
