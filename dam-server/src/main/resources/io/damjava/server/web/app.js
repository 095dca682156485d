// The interactive page of `dam serve` (docs/server.md): regions by clicks, box, scribble or an
// uploaded mask; SAM masks from POST /v1/segment; descriptions streamed from
// POST /v1/chat/completions. Plain modern JS, no dependencies.
import { encodeRgba, dataUrl } from "/web/png.js";

const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"];
const $ = (id) => document.getElementById(id);
const state = {
  mode: "image",
  image: null, // {width, height, rgba, url}: the picture being annotated (the photo or a video frame)
  regions: [],
  current: 0,
  frames: [], // video: 8 pictures
  frameMasks: [], // video: 8 masks (Uint8Array or null)
  frame: 0,
  results: [],
  abort: null,
};
window.damPage = state; // read by the browser tests and handy in the console

// ---- errors and HTTP -------------------------------------------------------------------------
function showError(message) {
  $("errorText").textContent = message;
  $("error").hidden = false;
}
$("errorClose").onclick = () => ($("error").hidden = true);

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("apiKey").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function post(path, body, signal) {
  let res;
  try {
    res = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new Error("cannot reach the server (" + e.message + ")");
  }
  if (res.ok) return res;
  let message = res.statusText;
  try {
    message = (await res.json()).error.message;
  } catch (ignored) {
    // not our JSON error: keep the status text
  }
  if (res.status === 401) message = "the server needs an API key (401): type it at the top right. " + message;
  if (res.status === 503) message = `the server is busy (503): try again in ${res.headers.get("Retry-After") || "a few"} s. ` + message;
  throw new Error(message + ` [HTTP ${res.status}]`);
}

// ---- pictures ------------------------------------------------------------------------------------
async function decode(blob, name) {
  try {
    const bmp = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    return fromDrawable(bmp, bmp.width, bmp.height);
  } catch (e) {
    throw new Error(`cannot read ${name} as an image (PNG or JPEG expected)`);
  }
}

function fromDrawable(src, width, height) {
  const c = new OffscreenCanvas(width, height);
  const g = c.getContext("2d");
  g.drawImage(src, 0, 0, width, height);
  const rgba = g.getImageData(0, 0, width, height).data;
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return { width, height, rgba, url: null };
}

async function pictureUrl(pic, mask) {
  const rgba = new Uint8Array(pic.rgba);
  if (mask) for (let i = 0; i < mask.length; i++) rgba[i * 4 + 3] = mask[i] ? 255 : 0;
  return dataUrl(await encodeRgba(pic.width, pic.height, rgba));
}

async function maskFrom(blob, name, width, height) {
  const m = await decode(blob, name);
  if (m.width !== width || m.height !== height) {
    throw new Error(`${name} is ${m.width}x${m.height}, the image is ${width}x${height}`);
  }
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = m.rgba[i * 4] | m.rgba[i * 4 + 1] | m.rgba[i * 4 + 2] ? 1 : 0;
  if (!out.some((v) => v)) throw new Error(`${name} is empty: no non-zero pixel`);
  return out;
}

function setPicture(pic) {
  state.image = pic;
  state.regions = [];
  newRegion();
  for (const id of ["photo", "overlay", "marks"]) {
    $(id).width = pic.width;
    $(id).height = pic.height;
  }
  const ctx = $("photo").getContext("2d");
  ctx.putImageData(new ImageData(new Uint8ClampedArray(pic.rgba), pic.width, pic.height), 0, 0);
  $("drop").hidden = true;
  redraw();
}

async function openImage(file) {
  try {
    state.frames = [];
    setPicture(await decode(file, file.name));
  } catch (e) {
    showError(e.message);
  }
}

// ---- regions -------------------------------------------------------------------------------------
function newRegion() {
  const colour = COLOURS[state.regions.length % COLOURS.length];
  state.regions.push({ colour, kind: null, points: [], box: null, strokes: [], mask: null, area: 0 });
  state.current = state.regions.length - 1;
}
const region = () => state.regions[state.current];

async function segment() {
  const r = region();
  let spec;
  if (r.kind === "points") spec = { points: r.points.map((p) => [p.x, p.y, p.positive ? 1 : 0]) };
  else if (r.kind === "box") spec = { box: r.box };
  else if (r.kind === "scribble") spec = { scribble: strokeUrl(r.strokes) };
  else {
    r.mask = null;
    return redraw();
  }
  try {
    state.image.url ??= await pictureUrl(state.image, null);
    const res = await post("/v1/segment", { image: state.image.url, region: spec }, AbortSignal.timeout(120000));
    const body = await res.json();
    r.mask = await maskFrom(blobOf(body.mask), "the mask", state.image.width, state.image.height);
    r.area = body.area;
  } catch (e) {
    showError("segmentation failed: " + e.message);
  }
  redraw();
}

function blobOf(url) {
  const bin = atob(url.slice(url.indexOf(",") + 1));
  return new Blob([Uint8Array.from(bin, (ch) => ch.charCodeAt(0))], { type: "image/png" });
}

function strokeUrl(strokes) {
  const c = document.createElement("canvas");
  c.width = state.image.width;
  c.height = state.image.height;
  drawStrokes(c.getContext("2d"), strokes, "#fff");
  return c.toDataURL("image/png");
}

function drawStrokes(g, strokes, colour) {
  g.strokeStyle = colour;
  g.lineWidth = Math.max(3, state.image.width / 80);
  g.lineCap = g.lineJoin = "round";
  for (const s of strokes) {
    g.beginPath();
    s.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.stroke();
  }
}

function redraw() {
  if (!state.image) return;
  const { width: w, height: h } = state.image;
  const over = new ImageData(w, h);
  for (const r of state.regions) if (r.mask) paintMask(over.data, r.mask, w, h, r.colour);
  $("overlay").getContext("2d").putImageData(over, 0, 0);
  const g = $("marks").getContext("2d");
  g.clearRect(0, 0, w, h);
  const r = region();
  if (r.box) {
    g.strokeStyle = r.colour;
    g.lineWidth = 2;
    g.strokeRect(r.box[0], r.box[1], r.box[2] - r.box[0], r.box[3] - r.box[1]);
  }
  drawStrokes(g, r.strokes, r.colour);
  for (const p of r.points) {
    g.fillStyle = p.positive ? "#1a7f37" : "#cf222e";
    g.beginPath();
    g.arc(p.x + 0.5, p.y + 0.5, Math.max(4, w / 120), 0, 2 * Math.PI);
    g.fill();
  }
  drawFilmstrip();
}

/** Tints the mask at 45% and outlines its border opaque, in the region's colour. */
function paintMask(px, mask, w, h, colour) {
  const [cr, cg, cb] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w];
      px.set([cr, cg, cb, edge ? 255 : 115], i * 4);
    }
  }
}

// ---- pointer input on the stage ------------------------------------------------------------------
const tool = () => document.querySelector("input[name=tool]:checked").value;
function pixel(e) {
  const c = $("marks").getBoundingClientRect();
  const x = Math.floor(((e.clientX - c.left) * state.image.width) / c.width);
  const y = Math.floor(((e.clientY - c.top) * state.image.height) / c.height);
  return [Math.min(Math.max(x, 0), state.image.width - 1), Math.min(Math.max(y, 0), state.image.height - 1)];
}
function setKind(r, kind) {
  if (r.kind !== kind) Object.assign(r, { kind, points: [], box: null, strokes: [] });
}

let drag = null;
$("marks").addEventListener("contextmenu", (e) => e.preventDefault());
$("marks").addEventListener("pointerdown", (e) => {
  if (!state.image) return;
  const [x, y] = pixel(e);
  const r = region();
  if (tool() === "click") {
    setKind(r, "points");
    r.points.push({ x, y, positive: e.button !== 2 && !$("negative").checked });
    redraw();
    segment();
    return;
  }
  $("marks").setPointerCapture(e.pointerId);
  drag = { start: [x, y], stroke: [[x, y]] };
  if (tool() === "scribble") {
    setKind(r, "scribble");
    r.strokes.push(drag.stroke);
  }
});
$("marks").addEventListener("pointermove", (e) => {
  if (!drag) return;
  const [x, y] = pixel(e);
  const r = region();
  if (tool() === "box") {
    setKind(r, "box");
    const [x0, y0] = drag.start;
    r.box = [Math.min(x0, x), Math.min(y0, y), Math.max(x0, x), Math.max(y0, y)];
  } else {
    drag.stroke.push([x, y]);
  }
  redraw();
});
$("marks").addEventListener("pointerup", () => {
  if (!drag) return;
  drag = null;
  const r = region();
  if (r.kind === "box" && r.box && (r.box[2] - r.box[0] < 2 || r.box[3] - r.box[1] < 2)) r.box = null;
  segment();
});

$("undo").onclick = () => {
  const r = region();
  if (r.kind === "points") r.points.pop();
  else if (r.kind === "scribble") r.strokes.pop();
  else if (r.kind === "box") r.box = null;
  else if (state.regions.length > 1) {
    state.regions.pop();
    state.current = state.regions.length - 1;
    return redraw();
  }
  if (!r.points.length && !r.strokes.length && !r.box) r.kind = null;
  segment();
};
$("clear").onclick = () => {
  state.regions = [];
  newRegion();
  redraw();
};
$("newRegion").onclick = () => {
  newRegion();
  redraw();
};
$("maskFile").onchange = async (e) => {
  const f = e.target.files[0];
  e.target.value = "";
  if (!f || !state.image) return showError("open an image first, then upload its mask");
  try {
    const r = region();
    setKind(r, "upload");
    r.mask = await maskFrom(f, f.name, state.image.width, state.image.height);
    redraw();
  } catch (err) {
    showError(err.message);
  }
};

// ---- opening files -------------------------------------------------------------------------------
$("imageFile").onchange = (e) => e.target.files[0] && openImage(e.target.files[0]);
const stage = $("stage");
stage.addEventListener("dragover", (e) => {
  e.preventDefault();
  stage.classList.add("dragging");
});
stage.addEventListener("dragleave", () => stage.classList.remove("dragging"));
stage.addEventListener("drop", (e) => {
  e.preventDefault();
  stage.classList.remove("dragging");
  if (e.dataTransfer.files[0]) openImage(e.dataTransfer.files[0]);
});
document.addEventListener("paste", (e) => {
  const f = [...e.clipboardData.files].find((x) => x.type.startsWith("image/"));
  if (f) openImage(f);
});

// ---- video: 8 frames, one mask each --------------------------------------------------------------
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.onchange = () => {
    state.mode = radio.value;
    $("video").hidden = state.mode !== "video";
  };
}

function setFrames(frames) {
  state.frames = frames;
  state.frameMasks = frames.map(() => null);
  pickFrame(0);
}
function pickFrame(i) {
  state.frame = i;
  setPicture(state.frames[i]);
}

$("frameFiles").onchange = async (e) => {
  const files = [...e.target.files].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  e.target.value = "";
  try {
    if (files.length !== 8) throw new Error(`pick exactly 8 frames, got ${files.length}`);
    setFrames(await Promise.all(files.map((f) => decode(f, f.name))));
  } catch (err) {
    showError(err.message);
  }
};
$("videoFile").onchange = async (e) => {
  const f = e.target.files[0];
  e.target.value = "";
  if (!f) return;
  const v = document.createElement("video");
  v.muted = true;
  v.src = URL.createObjectURL(f);
  try {
    await new Promise((ok, fail) => {
      v.onloadeddata = ok;
      v.onerror = () => fail(new Error(`cannot play ${f.name} in this browser`));
    });
    const frames = [];
    for (let i = 0; i < 8; i++) {
      v.currentTime = (v.duration * (i + 0.5)) / 8;
      await new Promise((ok) => (v.onseeked = ok));
      frames.push(fromDrawable(v, v.videoWidth, v.videoHeight));
    }
    setFrames(frames);
  } catch (err) {
    showError(err.message);
  } finally {
    URL.revokeObjectURL(v.src);
  }
};
$("videoMasks").onchange = async (e) => {
  const files = [...e.target.files].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  e.target.value = "";
  try {
    if (state.frames.length !== 8) throw new Error("open the video or its 8 frames first");
    if (files.length !== 8) throw new Error(`pick exactly 8 masks, got ${files.length}`);
    const { width, height } = state.frames[0];
    state.frameMasks = await Promise.all(files.map((f) => maskFrom(f, f.name, width, height)));
    redraw();
  } catch (err) {
    showError(err.message);
  }
};
$("useMask").onclick = () => {
  if (!state.frames.length || !region().mask) return showError("annotate a region on a frame first");
  state.frameMasks[state.frame] = region().mask;
  redraw();
};

function drawFilmstrip() {
  const strip = $("filmstrip");
  strip.replaceChildren();
  state.frames.forEach((f, i) => {
    const fig = document.createElement("figure");
    fig.className = i === state.frame ? "current" : "";
    const c = document.createElement("canvas");
    c.width = f.width;
    c.height = f.height;
    const g = c.getContext("2d");
    g.putImageData(new ImageData(new Uint8ClampedArray(f.rgba), f.width, f.height), 0, 0);
    if (state.frameMasks[i]) {
      const over = new ImageData(f.width, f.height);
      paintMask(over.data, state.frameMasks[i], f.width, f.height, COLOURS[0]);
      g.drawImage(createImageBitmapSync(over), 0, 0);
    }
    const cap = document.createElement("figcaption");
    cap.textContent = `frame ${i + 1}${state.frameMasks[i] ? "" : " (no mask)"}`;
    fig.append(c, cap);
    fig.onclick = () => pickFrame(i);
    strip.append(fig);
  });
}
function createImageBitmapSync(imageData) {
  const c = new OffscreenCanvas(imageData.width, imageData.height);
  c.getContext("2d").putImageData(imageData, 0, 0);
  return c;
}

// ---- describing ----------------------------------------------------------------------------------
function options() {
  return {
    temperature: Number($("temperature").value),
    top_p: Number($("topP").value),
    max_tokens: Math.round(Number($("maxTokens").value)),
  };
}

async function stream(images, result) {
  const content = images.map((url) => ({ type: "image_url", image_url: { url } }));
  const query = $("query").value.trim();
  if (query) content.push({ type: "text", text: query }); // none: the model's default question
  const body = { model: "describe_anything_model", stream: true, messages: [{ role: "user", content }], ...options() };
  const t0 = performance.now();
  const res = await post("/v1/chat/completions", body, state.abort.signal);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut).replace(/^data: /, "");
      buffer = buffer.slice(cut + 2);
      if (event === "[DONE]") return;
      const chunk = JSON.parse(event);
      if (chunk.error) throw new Error(chunk.error.message);
      const choice = chunk.choices?.[0] ?? {};
      if (typeof choice.delta?.content === "string" && choice.delta.content) {
        result.text += choice.delta.content;
        result.chunks++;
        result.firstTokenMs ??= Math.round(performance.now() - t0);
      }
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
      if (chunk.usage) result.usage = chunk.usage;
      result.totalMs = Math.round(performance.now() - t0);
      render();
    }
  }
}

function render() {
  const list = $("results");
  list.replaceChildren();
  for (const r of state.results) {
    const li = document.createElement("li");
    li.style.setProperty("--c", r.colour);
    li.dataset.status = r.status;
    li.dataset.chunks = r.chunks;
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = r.text;
    const meta = document.createElement("div");
    meta.className = "meta";
    const tok = r.usage ? `, ${r.usage.completion_tokens} tokens` : "";
    meta.textContent = `${r.label}: ${r.status}` + (r.totalMs != null ? ` · first token ${r.firstTokenMs ?? "–"} ms, total ${r.totalMs} ms${tok}` : "");
    li.append(meta, text);
    list.append(li);
  }
}

$("describe").onclick = async () => {
  $("error").hidden = true;
  let jobs;
  if (state.mode === "video") {
    if (state.frames.length !== 8 || state.frameMasks.some((m) => !m)) {
      return showError("the video needs 8 frames and a mask on each of them");
    }
    jobs = [{ label: "video", colour: COLOURS[0], pics: state.frames.map((f, i) => [f, state.frameMasks[i]]) }];
  } else {
    jobs = state.regions.filter((r) => r.mask).map((r, i) => ({ label: `region ${i + 1}`, colour: r.colour, region: r, pics: [[state.image, r.mask]] }));
    if (!jobs.length) return showError("no region yet: click, drag a box, scribble or upload a mask first");
  }
  state.abort = new AbortController();
  $("describe").disabled = true;
  $("stop").disabled = false;
  state.results = jobs.map((j) => ({ label: j.label, colour: j.colour, job: j, text: "", chunks: 0, status: "waiting" }));
  render();
  try {
    for (const r of state.results) {
      r.status = "streaming";
      render();
      const urls = await Promise.all(r.job.pics.map(([pic, mask]) => pictureUrl(pic, mask)));
      await stream(urls, r);
      r.status = "done";
      render();
    }
  } catch (e) {
    const r = state.results.find((x) => x.status === "streaming");
    if (r) r.status = e.name === "AbortError" ? "stopped" : "failed";
    if (e.name !== "AbortError") showError("describe failed: " + e.message);
    render();
  } finally {
    $("describe").disabled = false;
    $("stop").disabled = true;
  }
};
$("stop").onclick = () => state.abort?.abort();

function resultJson() {
  return JSON.stringify(
    {
      mode: state.mode,
      query: $("query").value,
      options: options(),
      results: state.results.map((r) => ({
        label: r.label,
        colour: r.colour,
        prompt: r.job.region ? { kind: r.job.region.kind, points: r.job.region.points, box: r.job.region.box, area: r.job.region.area } : { frames: 8 },
        text: r.text,
        status: r.status,
        finish_reason: r.finishReason ?? null,
        usage: r.usage ?? null,
        first_token_ms: r.firstTokenMs ?? null,
        total_ms: r.totalMs ?? null,
      })),
    },
    null,
    2,
  );
}
$("copy").onclick = () => navigator.clipboard.writeText(resultJson()).catch((e) => showError("copy failed: " + e.message));
$("download").onclick = () => {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([resultJson()], { type: "application/json" }));
  a.download = "descriptions.json";
  a.click();
  URL.revokeObjectURL(a.href);
};
