// hypsa review page: EEG canvas viewer, event review, grade overrule (vanilla JS, no libraries).
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const pending = document.getElementById("pending");
  if (pending) {  // not analysed yet: poll the job and reload when it ends
    const jid = pending.dataset.job;
    if (!jid) return;
    const tick = async () => {
      const res = await fetch(`/api/jobs?ids=${jid}`, { credentials: "same-origin" });
      if (res.ok) {
        const j = (await res.json()).jobs[0];
        if (j && j.status === "done") { location.reload(); return; }
        if (j) {
          const b = pending.querySelector(".badge");
          b.className = `badge ${j.status}`;
          b.textContent = j.status === "running" ? `running ${Math.round(j.progress * 100)}%` : j.status;
          if (j.status === "failed") { pending.insertAdjacentHTML("beforeend", ""); return; }
        }
      }
      setTimeout(tick, 1000);
    };
    tick();
    return;
  }
  const rerun = document.getElementById("rerun");
  if (rerun) {  // a new analysis of a reviewed recording: reload when it is done
    const tick = async () => {
      const res = await fetch(`/api/jobs?ids=${rerun.dataset.job}`, { credentials: "same-origin" });
      const j = res.ok ? (await res.json()).jobs[0] : null;
      if (j && (j.status === "done" || j.status === "failed")) { location.reload(); return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
  const canvas = document.getElementById("eeg");
  if (!canvas) return;
  const rid = canvas.dataset.rec;
  const total = parseFloat(canvas.dataset.duration);
  const ctx = canvas.getContext("2d");
  const el = (id) => document.getElementById(id);
  const state = { start: 0, data: null, events: [], shown: { emg: true, ecg: true, eog: true }, cursor: null, seq: 0 };
  const cursorListeners = [], renderListeners = [];  // the video panel (video.js) listens
  const NOT_SPASM = ["eeg_decrement"];
  const LEFT = 80, PX_PER_MM = 4;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  const span = () => parseFloat(el("span").value);

  async function load() {
    const q = new URLSearchParams({ start: state.start.toFixed(3), duration: span(), montage: el("montage").value, max_points: 1500 });
    const seq = ++state.seq;
    const res = await fetch(`/api/recordings/${rid}/window?${q}`, { credentials: "same-origin" });
    if (seq !== state.seq) return;  // a later page was asked for meanwhile
    if (!res.ok) { el("pos").textContent = `could not load EEG (${res.status})`; return; }
    state.data = await res.json();
    if (seq !== state.seq) return;
    state.start = state.data.start;
    toggles();
    draw();
  }

  function toggles() {  // one checkbox per kind of non-EEG signal the file has
    const box = el("extra-toggles");
    const kinds = [...new Set((state.data.extra || []).map((c) => c.kind))];
    if (box.dataset.kinds === kinds.join(",")) return;
    box.dataset.kinds = kinds.join(",");
    box.innerHTML = kinds.map((k) => `<label class="check"><input type="checkbox" data-kind="${esc(k)}" id="show-${esc(k)}" ${state.shown[k] ? "checked" : ""}> ${esc(k.toUpperCase())}</label>`).join("");
    box.querySelectorAll("input").forEach((i) => i.addEventListener("change", () => { state.shown[i.dataset.kind] = i.checked; draw(); }));
  }

  function draw() {
    const d = state.data; if (!d) return;
    const extra = (d.extra || []).filter((c) => state.shown[c.kind]);
    const W = canvas.width, H = canvas.height, n = d.channels.length, m = extra.length;
    ctx.clearRect(0, 0, W, H);
    const pxs = (W - LEFT) / d.duration;
    const x = (t) => LEFT + (t - d.start) * pxs;
    for (const e of state.events) {  // events under the traces
      if (e.onset + e.duration < d.start || e.onset > d.start + d.duration) continue;
      ctx.fillStyle = e.status === "rejected" ? "rgba(120,120,120,0.15)" : e.status === "confirmed" || e.source === "added" ? "rgba(30,123,52,0.18)" : "rgba(200,30,30,0.15)";
      ctx.fillRect(x(e.onset), 0, Math.max(2, e.duration * pxs), H);
    }
    hypsaPlot.seconds(ctx, d, x, H);
    const gap = (H - 16) / (n + m + 1);
    const uvPerPx = parseFloat(el("gain").value) / PX_PER_MM;
    ctx.strokeStyle = "#1d2330"; ctx.lineWidth = 1;
    hypsaPlot.channels(ctx, d, x, gap, uvPerPx);
    // EMG, ECG, EOG below the EEG, each on its own scale (its 99th percentile fills half a lane)
    canvas.dataset.drawnExtra = extra.map((c) => c.name).join(",");
    for (let j = 0; j < m; j++) {
      const c = extra[j], y0 = gap * (n + j + 1), row = c.data, dt = 1 / c.sfreq;
      const mags = row.map((v) => Math.abs(v)).sort((a, b) => a - b);
      const full = Math.max(1, mags[Math.floor(0.99 * (mags.length - 1))] || 1);
      const k = (0.5 * gap) / full;
      ctx.fillStyle = "#8a3b12"; ctx.fillText(`${c.name} ±${full.toFixed(0)}µV`, 4, y0 + 4);
      ctx.strokeStyle = "#8a3b12"; ctx.beginPath();
      for (let i = 0; i < row.length; i++) {
        const px = x(d.start + i * dt), py = y0 - row[i] * k;
        if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      }
      ctx.stroke();
    }
    if (state.cursor !== null && state.cursor >= d.start && state.cursor <= d.start + d.duration) {
      ctx.strokeStyle = "#1f5fbf"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x(state.cursor), 0); ctx.lineTo(x(state.cursor), H); ctx.stroke();
      ctx.lineWidth = 1;
    }
    canvas.dataset.start = d.start;
    canvas.dataset.cursor = state.cursor === null ? "" : state.cursor.toFixed(3);
    ctx.strokeStyle = "#1d2330";
    el("pos").textContent = `${d.start.toFixed(1)}–${(d.start + d.duration).toFixed(1)} s of ${total.toFixed(0)} s · ${d.montage.replace("_", " ")}`;
  }

  function evRow(e, cols) {
    return `<tr class="${esc(e.status)}" data-key="${esc(e.key)}">` +
      `<td><a href="#" class="jump" data-t="${e.onset}">${e.onset.toFixed(2)} s</a></td><td>${e.duration.toFixed(2)} s</td>` +
      `<td>${e.confidence === null || e.confidence === undefined ? "—" : Number(e.confidence).toFixed(2)}</td>` +
      (cols ? `<td>${esc(e.source)}</td>` : "") +
      `<td class="ev-status">${esc(e.status)}${e.carried ? " (carried)" : ""}</td><td>${esc(e.reviewer || "")}${e.reviewed_at ? " · " + esc(e.reviewed_at) : ""}</td>` +
      `<td><button type="button" class="act confirm" data-kind="confirm" data-key="${esc(e.key)}">Confirm</button>` +
      `<button type="button" class="act reject" data-kind="reject" data-key="${esc(e.key)}">Reject</button></td></tr>`;
  }

  function renderReview(rec) {
    const a = rec.analysis;
    state.events = a.events.filter((e) => !NOT_SPASM.includes(e.type) || e.counted);
    const g = a.reviewed.grade, rs = a.reviewed, rt = rs.rate;
    el("grade").textContent = g.grade === null ? "not graded" : g.grade;
    el("present").textContent = g.verdict.replace("_", " ");
    el("grade-note").textContent = g.reviewed ? `by ${g.reviewer} at ${g.reviewed_at} UTC` +
      (g.overruled ? `, overruling the machine's ${g.detected}` : "") + `: ${g.comment}` : "machine's grade, not reviewed";
    el("spasm-count").textContent = rs.count;
    el("count-note").textContent = `${a.detected_count} detected · ${rs.n_clusters} cluster(s)` +
      (rs.last_review ? ` · reviewed by ${rs.last_review.reviewer} at ${rs.last_review.at} UTC` : "");
    if (rt.per_hour === null) el("rate").textContent = "no analysed time";
    else if (rt.per_24h !== null) el("rate").textContent = `${rt.per_24h.toFixed(0)} per 24 h, extrapolated from ${rt.analysed_h.toFixed(1)} h`;
    else el("rate").textContent = `${rt.per_hour.toFixed(1)} per hour (95 % CI ${rt.per_hour_ci95[0].toFixed(1)}–${rt.per_hour_ci95[1].toFixed(1)}) in ` +
      `${(rt.analysed_h * 60).toFixed(0)} min analysed; no per-24-h figure below ${rt.min_hours_for_24h} h`;
    const spasms = a.events.filter((e) => !NOT_SPASM.includes(e.type));
    const decs = a.events.filter((e) => NOT_SPASM.includes(e.type));
    document.querySelector("#events tbody").innerHTML = spasms.map((e) => evRow(e, true)).join("") ||
      '<tr><td colspan="7">No event detected.</td></tr>';
    el("decrements-box").hidden = !decs.length;
    document.querySelector("#decrements tbody").innerHTML = decs.map((e) => evRow(e, false)).join("");
    const pend = a.pending || [];
    el("pending-box").hidden = !pend.length;
    el("pending-list").innerHTML = pend.map((p) => `<li data-key="${esc(p.key)}">${Number(p.onset).toFixed(2)} s — ${esc(p.comment)} ` +
      `(${esc(p.reviewer)}, ${esc(p.reviewed_at)}) <button type="button" class="resolve" data-action="add" data-key="${esc(p.key)}">Keep as event</button>` +
      `<button type="button" class="resolve" data-action="dismiss" data-key="${esc(p.key)}">Dismiss</button></li>`).join("");
    for (const f of renderListeners) f(a);
    el("history").innerHTML = a.history.map((h) => `<li>${esc(h.at)} ${esc(h.reviewer)}: ${esc(h.kind)} ` +
      `${esc(h.event_key || (h.onset !== null ? h.onset + " s" : "") || (h.grade !== null ? "grade " + h.grade : ""))}${h.comment ? " — " + esc(h.comment) : ""}${h.carried ? " (carried over)" : ""}</li>`).join("");
    draw();
  }

  async function send(body) {
    const res = await fetch(`/api/recordings/${rid}/reviews`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { el("review-msg").textContent = data.detail || res.statusText; el("review-msg").className = "error"; return; }
    el("review-msg").textContent = "Saved."; el("review-msg").className = "hint";
    renderReview(data);
  }

  function moveCursor(t, source) {  // the cursor only; listeners hear where and from whom
    state.cursor = Math.max(0, Math.min(total, t));
    for (const f of cursorListeners) f(state.cursor, source || "eeg");
  }
  function setCursor(t, source) {  // the cursor, turning to the page that holds it
    const sp = span();
    t = Math.max(0, Math.min(total, t));
    if (t < state.start || t > state.start + sp) {
      state.start = Math.max(0, Math.min(Math.max(0, total - sp), source === "video" ? t - 0.1 * sp : t - sp / 3));
      moveCursor(t, source); load();
    } else { moveCursor(t, source); draw(); }
  }
  function jumpTo(t) { state.start = Math.max(0, Math.min(total - span(), t - span() / 3)); moveCursor(t); load(); }
  window.hypsaViewer = { setCursor, cursor: () => state.cursor, span,
    onCursor: (f) => cursorListeners.push(f), onRender: (f) => renderListeners.push(f) };
  function nextSpasm(dir) {
    const centre = state.start + span() / 3;
    const ons = state.events.map((e) => e.onset).sort((a, b) => a - b);
    const t = dir > 0 ? ons.find((o) => o > centre + 0.05) : ons.reverse().find((o) => o < centre - 0.05);
    if (t !== undefined) jumpTo(t);
  }

  for (const id of ["events", "decrements"]) {
    el(id).addEventListener("click", (ev) => {
      const b = ev.target.closest("button.act");
      if (b) { send({ kind: b.dataset.kind, event_key: b.dataset.key }); return; }
      const j = ev.target.closest("a.jump");
      if (j) { ev.preventDefault(); jumpTo(parseFloat(j.dataset.t)); }
    });
  }
  el("pending-list").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.resolve");
    if (b) send({ kind: "resolve", key: b.dataset.key, action: b.dataset.action });
  });
  el("reanalyze").addEventListener("click", async () => {
    const go = async (confirmed) => fetch(`/api/recordings/${rid}/reanalyze`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ confirm: confirmed }),
    });
    let res = await go(false);
    let data = await res.json().catch(() => ({}));
    if (res.status === 409 && /review decision/.test(data.detail || "")) {
      if (!window.confirm(data.detail)) return;
      res = await go(true); data = await res.json().catch(() => ({}));
    }
    if (!res.ok) { el("review-msg").textContent = data.detail || res.statusText; el("review-msg").className = "error"; return; }
    location.reload();
  });
  el("add-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send({ kind: "add", onset: parseFloat(el("add-onset").value), duration: parseFloat(el("add-duration").value), comment: el("add-comment").value });
  });
  el("grade-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send({ kind: "grade", grade: parseInt(el("grade-value").value, 10), comment: el("grade-comment").value });
  });
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    const px = (ev.clientX - r.left) * canvas.width / r.width;
    if (!state.data || px < LEFT) return;
    const t = state.data.start + (px - LEFT) / ((canvas.width - LEFT) / state.data.duration);
    el("add-onset").value = t.toFixed(2);
    setCursor(t);
  });
  for (const id of ["montage", "span"]) el(id).addEventListener("change", load);
  el("gain").addEventListener("change", draw);
  el("prev-page").addEventListener("click", () => { state.start = Math.max(0, state.start - span()); moveCursor(state.start); load(); });
  el("next-page").addEventListener("click", () => { state.start = Math.min(Math.max(0, total - span()), state.start + span()); moveCursor(state.start); load(); });
  el("prev-spasm").addEventListener("click", () => nextSpasm(-1));
  el("next-spasm").addEventListener("click", () => nextSpasm(1));
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, select, textarea")) return;
    if (ev.key === "ArrowRight") el("next-page").click();
    if (ev.key === "ArrowLeft") el("prev-page").click();
    if (ev.key === "n") nextSpasm(1);
    if (ev.key === "p") nextSpasm(-1);
  });

  fetch(`/api/recordings/${rid}`, { credentials: "same-origin" }).then((r) => r.json()).then((rec) => {
    renderReview(rec);
    if (rec.analysis.events.length) jumpTo(rec.analysis.events[0].onset); else load();
  });
})();
