// hypsa EEG drawing shared by the recording viewer and the reader-study page (vanilla JS).
"use strict";
window.hypsaPlot = {
  // one grey line and label per second of the window `d` (x: seconds -> canvas x)
  seconds(ctx, d, x, H) {
    ctx.strokeStyle = "#e6e9ef"; ctx.lineWidth = 1; ctx.fillStyle = "#5b6577"; ctx.font = "11px sans-serif";
    for (let t = Math.ceil(d.start); t <= d.start + d.duration; t += 1) {
      ctx.beginPath(); ctx.moveTo(x(t), 0); ctx.lineTo(x(t), H); ctx.stroke();
      ctx.fillText(`${t}s`, x(t) + 2, H - 3);
    }
  },
  // each EEG channel of `d` on its own lane `gap` px apart, labelled, at `uvPerPx` µV per pixel
  channels(ctx, d, x, gap, uvPerPx) {
    for (let c = 0; c < d.channels.length; c++) {
      const y0 = gap * (c + 1), row = d.data[c], dt = 1 / d.sfreq;
      ctx.fillStyle = "#1d2330"; ctx.fillText(d.channels[c], 4, y0 + 4);
      ctx.beginPath();
      for (let i = 0; i < row.length; i++) {
        const px = x(d.start + i * dt), py = y0 - row[i] / uvPerPx;
        if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      }
      ctx.stroke();
    }
  },
};
