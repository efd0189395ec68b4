// The replay page of `encoder view` (encoder/view/page.py builds it; docs/viewer.md).
// Times are milliseconds since the recording's first row. The state is mirrored into data-*
// attributes of #app (t, frame, shown, loaded, playing, speed, action) so tests can read it.
// URL fragment: #t=SECONDS&speed=N&play&paused&nocursor&actual&span=SECONDS
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const config = JSON.parse($("config").textContent);
  const embeddedData = config.mode === "embedded" ? JSON.parse($("frames").textContent) : null;
  const embedded = config.embedded || [];
  const SPEEDS = [0.5, 1, 2, 4, 8];
  const KIND_COLORS = {
    click: "#ff6b6b", double_click: "#ff8e53", triple_click: "#ffa94d", right_click: "#74c0fc",
    middle_click: "#8ce99a", drag: "#f783ac", scroll: "#adb5bd", key: "#ffd43b", hotkey: "#fab005",
    type: "#69db7c", focus: "#b197fc", command: "#63e6be", move: "#868e96",
  };
  const BUTTON_COLORS = {1: "#ff4040", 2: "#40d040", 3: "#4090ff"};
  const GUTTER = 64;
  const LANES = [["actions", 26], ["keys", 26], ["apps", 26], ["clicks", 22], ["recorder", 22]];
  const params = parseHash();
  const state = {t: 0, playing: false, speed: 1, span: 30000, frame: -1, shown: -1, loaded: -1,
                 loading: -1, timer: 0, last: 0, action: -1, hits: []};
  let E = null, W = 640, H = 360, screenCtx = null, overlayCtx = null, overviewBase = null, rows = [];

  function parseHash() {
    const out = {};
    for (const part of location.hash.replace(/^#/, "").split("&")) {
      if (!part) continue;
      const i = part.indexOf("=");
      if (i < 0) out[decodeURIComponent(part)] = true;
      else out[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
    }
    return out;
  }

  function clock(ms) {
    ms = Math.max(0, Math.floor(ms));
    const pad = (v, n) => String(v).padStart(n, "0");
    const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    return (h ? h + ":" + pad(m, 2) : String(m)) + ":" + pad(s, 2) + "." + pad(ms % 1000, 3);
  }

  // The last index i with key(arr[i]) <= t (arr sorted by key), -1 when none.
  function upper(arr, t, key) {
    let lo = 0, hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((key ? key(arr[mid]) : arr[mid]) <= t) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }
  const first = (row) => row[0];

  function inPause(t) {
    return E.pauses.some((p) => p[0] <= t && t < p[1]);
  }

  // ---- frames ----------------------------------------------------------------------------
  function frameSource(i) {
    if (config.mode !== "embedded") return [i, "frame/" + i + "." + config.ext];
    if (!embedded.length) return [-1, null];
    const k = embedded[Math.max(0, upper(embedded, i))];
    return [k, embeddedData[String(k)]];
  }

  function showFrame() {
    state.frame = upper(E.frames, state.t);
    if (!E.frames.length) return;
    const [k, url] = frameSource(Math.max(state.frame, 0));  // before the first frame: the first
    state.shown = k;
    if (k < 0 || k === state.loaded || k === state.loading || state.loading >= 0) return;
    state.loading = k;  // one image at a time; when it lands the newest wanted frame follows
    const img = new Image();
    img.onload = () => {
      screenCtx.drawImage(img, 0, 0, W, H);
      state.loaded = k;
      state.loading = -1;
      if (state.shown !== k) showFrame();
      else if (state.playing && config.mode !== "embedded" && k + 1 < E.frames.length) {
        new Image().src = frameSource(k + 1)[1];  // warm the browser cache with the next frame
      }
      mirror();
    };
    img.onerror = () => { state.loading = -1; $("status").textContent = "frame " + k + " failed to load"; };
    img.src = url;
  }

  // ---- the overlay: cursor trail, cursor, clicks -------------------------------------------
  function drawOverlay() {
    const c = overlayCtx, t = state.t, P = E.pointer, s = Math.max(1, W / 1280);
    c.clearRect(0, 0, W, H);
    const j = upper(P.t, t);
    if (j >= 0) {
      c.lineWidth = 2 * s;
      c.lineJoin = "round";
      c.strokeStyle = "rgba(255, 200, 0, 0.75)";
      c.beginPath();
      c.moveTo(P.x[j], P.y[j]);
      for (let i = j - 1; i >= 0 && P.t[i] >= t - 1500; i--) c.lineTo(P.x[i], P.y[i]);
      c.stroke();
    }
    for (let i = upper(E.clicks, t, first); i >= 0 && E.clicks[i][0] >= t - 700; i--) {
      const [ct, x, y, b] = E.clicks[i], age = (t - ct) / 700;
      c.globalAlpha = 1 - age;
      c.strokeStyle = BUTTON_COLORS[b] || "#ff40ff";
      c.lineWidth = 3 * s;
      c.beginPath();
      c.arc(x, y, (8 + 16 * age) * s, 0, 2 * Math.PI);
      c.stroke();
      c.globalAlpha = 1;
    }
    if (j >= 0) {
      const x = P.x[j], y = P.y[j], a = [[0, 0], [0, 17], [4, 13], [7, 20], [10, 19], [7, 12], [12, 12]];
      c.beginPath();
      a.forEach(([dx, dy], i) => (i ? c.lineTo : c.moveTo).call(c, x + dx * s, y + dy * s));
      c.closePath();
      c.fillStyle = "#fff";
      c.fill();
      c.lineWidth = 1.5 * s;
      c.strokeStyle = "#000";
      c.stroke();
    }
    const paused = inPause(t);
    app.dataset.pausedRecording = paused ? "1" : "0";
    $("banner").style.display = paused ? "block" : "none";
    $("banner").textContent = paused ? "recording paused: no input or frames were kept" : "";
  }

  // ---- timeline lanes ---------------------------------------------------------------------
  function fit(canvas) {
    const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth || 800, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
    const c = canvas.getContext("2d");
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    return [c, w, h];
  }

  function windowRange() {
    const d = Math.max(E.duration, 1);
    if (!state.span || state.span >= d) return [0, d];
    const a = Math.min(Math.max(state.t - state.span / 2, 0), d - state.span);
    return [a, a + state.span];
  }

  function appColor(name) {
    let h = 0;
    for (const ch of String(name)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return "hsl(" + (h % 360) + ", 45%, 38%)";
  }

  function label(c, text, x, y, maxWidth) {
    if (maxWidth < 14 || !text) return;
    c.save();
    c.beginPath();
    c.rect(x, y - 12, maxWidth, 16);
    c.clip();
    c.fillText(text, x, y);
    c.restore();
  }

  function drawLanes() {
    const [c, w] = fit($("lanes")), [a, b] = windowRange();
    const X = (t) => GUTTER + (t - a) / (b - a) * (w - GUTTER);
    c.clearRect(0, 0, w, 200);
    c.font = "11px 'DejaVu Sans', sans-serif";
    state.hits = [];
    let y = 0;
    const top = {};
    for (const [name, h] of LANES) {
      top[name] = y;
      c.fillStyle = "#888";
      c.fillText(name, 4, y + h / 2 + 4);
      c.fillStyle = "#333";
      c.fillRect(GUTTER, y + h - 1, w - GUTTER, 1);
      y += h;
    }
    c.save();
    c.beginPath();
    c.rect(GUTTER, 0, w - GUTTER, y);
    c.clip();  // nothing spills into the lane names
    for (const [p0, p1] of E.pauses) {  // paused periods shade every lane
      c.fillStyle = "rgba(200, 60, 60, 0.22)";
      c.fillRect(X(Math.max(p0, a)), 0, X(Math.min(p1, b)) - X(Math.max(p0, a)), y);
    }
    const from = (arr) => Math.max(0, upper(arr, a - 600000, first));
    for (let i = from(E.actions); i < E.actions.length && E.actions[i][0] <= b; i++) {
      const [t0, t1, kind, text] = E.actions[i];
      if (t1 < a) continue;
      const x0 = X(t0), x1 = Math.max(X(t1), x0 + 3), lane = kind === "type" ? "keys" : "actions";
      const yy = top[lane] + 3;
      c.fillStyle = KIND_COLORS[kind] || "#ccc";
      c.fillRect(x0, yy, x1 - x0, 6);
      c.fillStyle = "#eee";
      const next = i + 1 < E.actions.length ? X(E.actions[i + 1][0]) : w;
      label(c, lane === "keys" ? JSON.stringify(text) : kind + " " + text, x0, yy + 19, Math.max(x1, next) - x0 - 3);
      if (lane === "actions") state.hits.push([x0 - 2, x1 + 2, t0, i]);
    }
    let lastLabel = -1e9;
    for (let i = from(E.keys); i < E.keys.length && E.keys[i][0] <= b; i++) {
      const x = X(E.keys[i][0]);
      if (x < GUTTER) continue;
      c.fillStyle = "#ffd43b";
      c.fillRect(x, top.keys + 10, 1, 6);
      const text = E.keys[i][1], tw = c.measureText(text).width;
      if (x - lastLabel > tw + 4 && tw < 80) {
        c.fillStyle = "#bbb";
        c.fillText(text, x + 2, top.keys + 24);
        lastLabel = x;
      }
    }
    for (let i = Math.max(0, upper(E.focus, a, first)); i < E.focus.length && E.focus[i][0] <= b; i++) {
      const [ft, name, title] = E.focus[i], end = i + 1 < E.focus.length ? E.focus[i + 1][0] : E.duration;
      const x0 = Math.max(X(ft), GUTTER), x1 = X(Math.min(end, b));
      c.fillStyle = appColor(name);
      c.fillRect(x0, top.apps + 3, x1 - x0 - 1, 20);
      c.fillStyle = "#fff";
      label(c, name + (title ? ": " + title : ""), x0 + 3, top.apps + 17, x1 - x0 - 6);
    }
    for (let i = from(E.clicks); i < E.clicks.length && E.clicks[i][0] <= b; i++) {
      c.fillStyle = BUTTON_COLORS[E.clicks[i][3]] || "#f4f";
      c.beginPath();
      c.arc(X(E.clicks[i][0]), top.clicks + 11, 4, 0, 2 * Math.PI);
      c.fill();
    }
    c.fillStyle = "#999";
    for (let i = from(E.scrolls); i < E.scrolls.length && E.scrolls[i][0] <= b; i++) {
      c.fillRect(X(E.scrolls[i][0]), top.clicks + (E.scrolls[i][4] > 0 ? 14 : 2), 1, 6);
    }
    for (const [dt, count] of E.dropped) {
      if (dt < a || dt > b) continue;
      const x = X(dt);
      c.fillStyle = "#ff3b3b";
      c.beginPath();
      c.moveTo(x - 5, top.recorder + 3); c.lineTo(x + 5, top.recorder + 3); c.lineTo(x, top.recorder + 12);
      c.fill();
      c.fillText(count + " dropped", x + 6, top.recorder + 16);
    }
    for (const [p0] of E.pauses) if (p0 >= a && p0 <= b) { c.fillStyle = "#e88"; c.fillText("paused", X(p0) + 3, top.recorder + 16); }
    c.fillStyle = "#ff3030";
    c.fillRect(X(state.t) - 1, 0, 2, y);
    c.restore();
  }

  function drawOverview() {
    const canvas = $("overview"), [c, w, h] = fit(canvas), d = Math.max(E.duration, 1);
    const X = (t) => t / d * w;
    if (!overviewBase || overviewBase.width !== canvas.width) {
      overviewBase = document.createElement("canvas");
      overviewBase.width = canvas.width;
      overviewBase.height = canvas.height;
      const o = overviewBase.getContext("2d");
      o.setTransform(canvas.width / w, 0, 0, canvas.height / h, 0, 0);
      o.fillStyle = "#555";
      for (const ft of E.frames) o.fillRect(X(ft), h - 4, 1, 4);
      for (const [t0, t1, kind] of E.actions) { o.fillStyle = KIND_COLORS[kind] || "#ccc"; o.fillRect(X(t0), 4, Math.max(X(t1) - X(t0), 1), 12); }
      for (const [p0, p1] of E.pauses) { o.fillStyle = "rgba(200, 60, 60, 0.4)"; o.fillRect(X(p0), 0, X(p1) - X(p0), h); }
      o.fillStyle = "#ff3b3b";
      for (const [dt] of E.dropped) o.fillRect(X(dt) - 1, 0, 3, h);
    }
    c.clearRect(0, 0, w, h);
    c.drawImage(overviewBase, 0, 0, w, h);
    if (state.span && state.span < d) {
      const [a, b] = windowRange();
      c.strokeStyle = "rgba(255, 255, 255, 0.5)";
      c.strokeRect(X(a) + 0.5, 0.5, X(b) - X(a) - 1, h - 1);
    }
    c.fillStyle = "#ff3030";
    c.fillRect(X(state.t) - 1, 0, 2, h);
  }

  // ---- state -----------------------------------------------------------------------------
  function mirror() {
    const d = app.dataset;
    d.t = state.t.toFixed(3);
    d.frame = String(state.frame);
    d.shown = String(state.shown);
    d.loaded = String(state.loaded);
    d.playing = state.playing ? "1" : "0";
    d.speed = String(state.speed);
    d.action = String(state.action);
  }

  function render() {
    showFrame();
    drawOverlay();
    drawLanes();
    drawOverview();
    $("clock").textContent = clock(state.t) + " / " + clock(E.duration);
    $("play").innerHTML = state.playing ? "&#10074;&#10074;" : "&#9654;";
    const f = upper(E.focus, state.t, first);
    $("now-app").textContent = f >= 0 ? E.focus[f][1] + (E.focus[f][2] ? ": " + E.focus[f][2] : "") : "";
    const k = upper(E.actions, state.t, first);
    if (k !== state.action) {
      if (rows[state.action]) rows[state.action].classList.remove("current");
      if (rows[k]) {
        rows[k].classList.add("current");
        if (state.playing) rows[k].scrollIntoView({block: "nearest"});
      }
      state.action = k;
    }
    $("now-action").textContent = k >= 0 ? E.actions[k][2] + " " + E.actions[k][3] : "";
    let status = E.frames.length ? "frame " + state.frame + " / " + E.frames.length : "no frames";
    if (state.shown >= 0 && state.shown !== Math.max(state.frame, 0)) status += " (showing " + state.shown + ": not embedded)";
    $("status").textContent = status;
    mirror();
  }

  function seek(t) {
    state.t = Math.min(Math.max(Number(t) || 0, 0), E.duration);
    state.last = performance.now();
    render();
  }

  function tick() {
    state.timer = 0;
    if (!state.playing) return;
    const now = performance.now();
    state.t = Math.min(E.duration, state.t + (now - state.last) * state.speed);
    state.last = now;
    if (state.t >= E.duration) state.playing = false;
    render();
    if (state.playing) state.timer = setTimeout(tick, 25);
  }

  function setPlaying(on) {
    if (on && state.t >= E.duration) state.t = 0;
    state.playing = on;
    state.last = performance.now();
    if (state.timer) clearTimeout(state.timer);
    state.timer = on ? setTimeout(tick, 25) : 0;
    render();
  }

  function setSpeed(speed) {
    state.speed = speed;
    $("speed").value = String(speed);
    render();
  }

  function step(sign) {
    const i = upper(E.frames, state.t) + sign;
    if (i >= 0 && i < E.frames.length) seek(E.frames[i]);
  }

  function jumpAction(sign) {
    const k = upper(E.actions, state.t - (sign < 0 ? 1 : 0), first) + (sign > 0 ? 1 : 0);
    if (k >= 0 && k < E.actions.length) seek(E.actions[k][0]);
  }

  function onKey(ev) {
    if (ev.target && ev.target.tagName === "SELECT") return;
    const i = SPEEDS.indexOf(state.speed);
    const keys = {
      " ": () => setPlaying(!state.playing),
      ArrowLeft: () => seek(state.t - (ev.shiftKey ? 10000 : 1000)),
      ArrowRight: () => seek(state.t + (ev.shiftKey ? 10000 : 1000)),
      ",": () => step(-1), ".": () => step(1), n: () => jumpAction(1), p: () => jumpAction(-1),
      "+": () => setSpeed(SPEEDS[Math.min(i + 1, SPEEDS.length - 1)]), "=": () => setSpeed(SPEEDS[Math.min(i + 1, SPEEDS.length - 1)]),
      "-": () => setSpeed(SPEEDS[Math.max(i - 1, 0)]), Home: () => seek(0), End: () => seek(E.duration),
    };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  }

  function buildList() {
    const body = $("list").tBodies[0];
    rows = E.actions.map(([t, , kind, text, , appName]) => {
      const tr = document.createElement("tr");
      for (const v of [clock(t), kind, text, appName || ""]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      }
      tr.addEventListener("click", () => seek(t));
      body.appendChild(tr);
      return tr;
    });
  }

  function notes() {
    const out = [];
    if (config.mode === "embedded" && embedded.length < E.frames.length) {
      out.push(embedded.length + " of " + E.frames.length + " frames are in this page (evenly spaced, plus each " +
               "action's frame); other times show the nearest earlier one. `encoder view --serve` shows every frame.");
    }
    if (!config.lossless) out.push("Frames are " + config.imageFormat + " (lossy): pixels are approximate.");
    if (E.dropped.length) out.push("The recorder dropped events " + E.dropped.length + " time(s) (red marks).");
    $("notes").textContent = out.join(" ");
  }

  function start(events) {
    E = events;
    if (E.width) { W = E.width; H = E.height; }
    for (const id of ["screen", "overlay"]) { $(id).width = W; $(id).height = H; }
    screenCtx = $("screen").getContext("2d");
    overlayCtx = $("overlay").getContext("2d");
    document.title = (E.name || "recording") + " - encoder view";
    if (params.nocursor) document.body.classList.add("nocursor");
    if (params.actual) document.body.classList.add("actual");
    if (params.span !== undefined) state.span = Number(params.span) * 1000;
    $("span").value = String(state.span);
    const speed = Number(params.speed);
    if (SPEEDS.includes(speed)) setSpeed(speed);
    buildList();
    notes();
    $("play").addEventListener("click", () => setPlaying(!state.playing));
    $("speed").addEventListener("change", (ev) => setSpeed(Number(ev.target.value)));
    $("span").addEventListener("change", (ev) => { state.span = Number(ev.target.value); render(); });
    $("overview").addEventListener("click", (ev) => seek(ev.offsetX / ev.target.clientWidth * E.duration));
    $("lanes").addEventListener("click", (ev) => {
      const hit = ev.offsetY < LANES[0][1] && state.hits.find((h) => h[0] <= ev.offsetX && ev.offsetX <= h[1]);
      if (hit) return seek(hit[2]);
      const [a, b] = windowRange(), w = ev.target.clientWidth;
      if (ev.offsetX >= GUTTER) seek(a + (ev.offsetX - GUTTER) / (w - GUTTER) * (b - a));
    });
    document.addEventListener("keydown", onKey);
    window.addEventListener("resize", render);
    window.addEventListener("hashchange", () => location.reload());
    seek(params.t !== undefined ? Number(params.t) * 1000 : 0);
    if (params.play && !params.paused) setPlaying(true);
    app.dataset.ready = "1";
  }

  if (config.mode === "embedded") start(JSON.parse($("events").textContent));
  else fetch("events.json").then((r) => r.json()).then(start, (err) => { $("status").textContent = "cannot load events: " + err; });
})();
