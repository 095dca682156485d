// The interactive page of `dam serve` (docs/server.md): regions by clicks, box, scribble or an
// uploaded mask; SAM masks from POST /v1/segment; descriptions streamed from
// POST /v1/chat/completions. Plain modern JS, no dependencies.
import { $, COLOURS, decode, maskFrom, paintMask, post, pictureUrl, showError, state } from "/web/core.js";
import { drawFilmstrip } from "/web/video.js";
import "/web/describe.js";

export function setPicture(pic) {
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
export function newRegion() {
  const colour = COLOURS[state.regions.length % COLOURS.length];
  state.regions.push({ colour, kind: null, points: [], box: null, strokes: [], mask: null, area: 0 });
  state.current = state.regions.length - 1;
}
export const region = () => state.regions[state.current];

async function segment() {
  const r = region();
  const pic = state.image;
  let spec = null;
  if (r.kind === "points" && r.points.length) spec = { points: r.points.map((p) => [p.x, p.y, p.positive ? 1 : 0]) };
  else if (r.kind === "box" && r.box) spec = { box: r.box };
  else if (r.kind === "scribble" && r.strokes.length) spec = { scribble: strokeUrl(r.strokes) };
  const ticket = (r.ticket = (r.ticket ?? 0) + 1); // only the latest answer for a region counts
  if (!spec) {
    r.mask = null;
    return redraw();
  }
  try {
    pic.url ??= await pictureUrl(pic, null);
    const res = await post("/v1/segment", { image: pic.url, region: spec }, AbortSignal.timeout(120000));
    const body = await res.json();
    const mask = await maskFrom(blobOf(body.mask), "the mask", pic.width, pic.height);
    if (ticket !== r.ticket || pic !== state.image) return;
    r.mask = mask;
    r.area = body.area;
  } catch (e) {
    if (ticket === r.ticket) showError("segmentation failed: " + e.message);
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

export function redraw() {
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
