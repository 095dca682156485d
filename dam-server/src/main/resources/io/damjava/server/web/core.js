// Shared by the page's modules: its state, HTTP with readable errors, decoding pictures and masks,
// painting a mask. See app.js.
import { encodeRgba, dataUrl } from "/web/png.js";

export const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"];
export const $ = (id) => document.getElementById(id);
export const state = {
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
export function showError(message) {
  $("errorText").textContent = message;
  $("error").hidden = false;
}
$("errorClose").onclick = () => ($("error").hidden = true);

export function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("apiKey").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

export async function post(path, body, signal) {
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
export async function decode(blob, name) {
  try {
    const bmp = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    return fromDrawable(bmp, bmp.width, bmp.height);
  } catch (e) {
    throw new Error(`cannot read ${name} as an image (PNG or JPEG expected)`);
  }
}

export function fromDrawable(src, width, height) {
  const c = new OffscreenCanvas(width, height);
  const g = c.getContext("2d");
  g.drawImage(src, 0, 0, width, height);
  const rgba = g.getImageData(0, 0, width, height).data;
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return { width, height, rgba, url: null };
}

export async function pictureUrl(pic, mask) {
  const rgba = new Uint8Array(pic.rgba);
  if (mask) for (let i = 0; i < mask.length; i++) rgba[i * 4 + 3] = mask[i] ? 255 : 0;
  return dataUrl(await encodeRgba(pic.width, pic.height, rgba));
}

export async function maskFrom(blob, name, width, height) {
  const m = await decode(blob, name);
  if (m.width !== width || m.height !== height) {
    throw new Error(`${name} is ${m.width}x${m.height}, the image is ${width}x${height}`);
  }
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = m.rgba[i * 4] | m.rgba[i * 4 + 1] | m.rgba[i * 4 + 2] ? 1 : 0;
  if (!out.some((v) => v)) throw new Error(`${name} is empty: no non-zero pixel`);
  return out;
}

/** Tints the mask at 45% and outlines its border opaque, in the region's colour. */
export function paintMask(px, mask, w, h, colour) {
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
