// The video path: 8 frames (from a video file or 8 pictures), one mask each, shown as a filmstrip.
// Until SAM 2.1 propagation exists, each frame gets an uploaded mask or one annotated on it.
import { $, COLOURS, decode, fromDrawable, maskFrom, paintMask, showError, state } from "/web/core.js";
import { redraw, region, setPicture } from "/web/app.js";

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

export function drawFilmstrip() {
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
