// hypsa dashboard: upload files one request each (per-row result) and poll job progress.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const form = document.getElementById("upload-form");
  const log = document.getElementById("upload-log");
  const tbody = document.querySelector("#recordings tbody");

  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function fmtTime(s) {
    s = Math.round(s || 0); const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return h ? `${h}:${String(m).padStart(2, "0")}:${String(x).padStart(2, "0")}` : `${m}:${String(x).padStart(2, "0")}`;
  }
  function row(r) {
    const j = r.job || {};
    let st = j.status ? `<span class="badge ${esc(j.status)}">${esc(j.status)}</span>` : "";
    if (j.status === "running") st += ` ${Math.round((j.progress || 0) * 100)}%`;
    if (j.error) st += `<div class="error">${esc(j.error)}</div>`;
    const grade = r.grade === null || r.grade === undefined ? "—" : esc(r.grade) + (r.grade_overruled ? " (overruled)" : "");
    const sp = r.spasms === null || r.spasms === undefined ? "—" : esc(r.spasms) + (r.reviewed ? " (reviewed)" : "") +
      (r.pending ? ` <span class="badge queued">${esc(r.pending)} to settle</span>` : "");
    return `<tr data-rec="${r.id}" data-job="${j.id || ""}" data-status="${esc(j.status || "")}"><td>${r.id}</td>` +
      `<td><a href="/recordings/${r.id}">${esc(r.name)}</a></td><td>${esc(r.patient || "—")}</td>` +
      `<td>${esc(r.recorded_on || "—")}</td><td>${fmtTime(r.duration_s)}</td><td class="status">${st}</td>` +
      `<td class="grade">${grade}</td><td class="spasms">${sp}</td></tr>`;
  }
  async function refresh() {
    const res = await fetch("/api/recordings", { credentials: "same-origin" });
    if (!res.ok) return false;
    const data = await res.json();
    tbody.innerHTML = data.recordings.length ? data.recordings.map(row).join("") :
      '<tr class="empty"><td colspan="8">No recording yet: upload one above.</td></tr>';
    return data.recordings.some((r) => r.job && (r.job.status === "queued" || r.job.status === "running"));
  }
  let timer = null;
  function poll() {
    clearTimeout(timer);
    refresh().then((busy) => { if (busy) timer = setTimeout(poll, 1000); }).catch(() => { timer = setTimeout(poll, 3000); });
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const files = Array.from(document.getElementById("files").files);
    const video = document.getElementById("video").files[0];
    const btn = document.getElementById("upload-btn");
    if (video && files.length !== 1) {
      const li = document.createElement("li");
      li.className = "error"; li.textContent = `${video.name}: a video goes with one recording, not ${files.length}`;
      log.prepend(li); return;
    }
    btn.disabled = true;
    for (const f of files) {
      const li = document.createElement("li");
      li.textContent = `${f.name}: uploading…`;
      log.prepend(li);
      const fd = new FormData();
      fd.append("files", f, f.name);
      fd.append("patient_code", document.getElementById("patient_code").value);
      fd.append("recorded_on", document.getElementById("recorded_on").value);
      if (video) {
        fd.append("video", video, video.name);
        fd.append("video_offset", document.getElementById("video_offset").value);
      }
      try {
        const res = await fetch("/api/uploads", { method: "POST", body: fd, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
        const data = await res.json().catch(() => ({}));
        const r = (data.files || [])[0];
        if (r && r.ok) { li.className = "ok"; li.textContent = `${r.name}: accepted, analysis queued (recording #${r.recording_id})` + (r.video ? `; video ${r.video.name} at ${r.video.offset_s} s (${r.video.method})` : ""); }
        else { li.className = "error"; li.textContent = r ? r.error : `${f.name}: ${data.detail || res.statusText}`; }
      } catch (e) {
        li.className = "error"; li.textContent = `${f.name}: upload failed (${e})`;
      }
      poll();
    }
    btn.disabled = false;
    form.reset();
  });
  if (tbody.querySelector('tr[data-status="queued"], tr[data-status="running"]')) poll();
})();
