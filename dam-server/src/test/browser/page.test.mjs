// Browser tests of the page at `/` of `dam serve`, driven by run.sh (which starts the server on the
// tiny bundles and writes the CLI's greedy goldens into DAM_WORK). Debian's chromium through
// playwright-core; no browser is downloaded.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const { DAM_URL, DAM_KEY, DAM_WORK, DAM_ROOT } = process.env;
const inputs = path.join(DAM_ROOT, "tools/reference/goldens/inputs");
const chelsea = path.join(DAM_ROOT, "tools/reference/fixtures/images/chelsea.png");
// The CLI lists boxes before clicks: [box, click].
const [boxGolden, clickGolden] = JSON.parse(fs.readFileSync(path.join(DAM_WORK, "image-goldens.json"), "utf8"));
const videoGolden = [JSON.parse(fs.readFileSync(path.join(DAM_WORK, "video-golden.json"), "utf8"))].flat()[0];
const GREEDY = { temperature: "0", maxTokens: "24" }; // run.sh's --temperature 0 --max-new-tokens 24

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "dam-page-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1180, height: 620 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));
const outside = [];
page.on("request", (r) => new URL(r.url()).origin !== new URL(DAM_URL).origin && !r.url().startsWith("data:") && !r.url().startsWith("blob:") && outside.push(r.url()));

let failures = 0;
async function step(name, fn) {
  try {
    await fn();
    console.log("ok   " + name);
  } catch (e) {
    failures++;
    console.log("FAIL " + name + "\n     " + (e.stack || e).toString().split("\n").slice(0, 6).join("\n     "));
  }
}

/** Clicks / drags at image pixel coordinates on the stage. */
async function at(x, y) {
  return page.evaluate(([x, y]) => {
    const c = document.getElementById("marks").getBoundingClientRect();
    const s = window.damPage.image;
    return [c.left + ((x + 0.5) * c.width) / s.width, c.top + ((y + 0.5) * c.height) / s.height];
  }, [x, y]);
}
async function drag(points) {
  const [x0, y0] = await at(...points[0]);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (const p of points.slice(1)) {
    const [x, y] = await at(...p);
    await page.mouse.move(x, y, { steps: 4 });
  }
  await page.mouse.up();
}
const waitMask = (i) => page.waitForFunction((i) => window.damPage.regions[i]?.mask != null, i, { timeout: 60000 });
const errorText = () => page.locator("#errorText").textContent();

/**
 * Overlay pixels vs the region's mask: every mask pixel tinted in the region's colour (within 3 levels:
 * the canvas stores the 45% tint premultiplied), nothing tinted outside any mask.
 */
async function overlayCheck(i) {
  return page.evaluate((i) => {
    const s = window.damPage;
    const r = s.regions[i];
    const px = document.getElementById("overlay").getContext("2d").getImageData(0, 0, s.image.width, s.image.height).data;
    const want = [1, 3, 5].map((k) => parseInt(r.colour.slice(k, k + 2), 16));
    let inMask = 0, tinted = 0, strayTint = 0;
    for (let p = 0; p < r.mask.length; p++) {
      const anyMask = s.regions.some((q) => q.mask && q.mask[p]);
      if (r.mask[p]) {
        inMask++;
        if (px[p * 4 + 3] > 0 && (s.regions.slice(i + 1).some((q) => q.mask && q.mask[p]) || want.every((v, k) => Math.abs(px[p * 4 + k] - v) <= 3))) tinted++;
      } else if (!anyMask && px[p * 4 + 3] !== 0) strayTint++;
    }
    return { inMask, tinted, strayTint };
  }, i);
}

await page.goto(DAM_URL + "/");

await step("the page and its assets load from the server alone", async () => {
  assert.equal(await page.title(), "Describe Anything");
  assert.deepEqual(outside, []);
});

await step("an unreadable file shows a clear error", async () => {
  await page.setInputFiles("#imageFile", { name: "broken.png", mimeType: "image/png", buffer: Buffer.from("not a picture") });
  await page.locator("#error").waitFor({ state: "visible" });
  assert.match(await errorText(), /cannot read broken\.png as an image/);
});

await step("a click without the API key shows the server's 401 on the page", async () => {
  await page.setInputFiles("#imageFile", chelsea);
  await page.waitForFunction(() => window.damPage.image?.width === 451);
  await page.mouse.click(...(await at(140, 110)));
  await page.waitForFunction(() => /API key \(401\)/.test(document.getElementById("errorText").textContent), null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.damPage.regions[0].mask), null);
  await page.click("#clear");
  await page.click("#errorClose");
  await page.fill("#apiKey", DAM_KEY);
});

await step("a click shows the SAM mask as a tinted overlay where the mask is", async () => {
  const before = await page.evaluate(() => document.getElementById("overlay").getContext("2d").getImageData(0, 0, 451, 300).data.some((v) => v));
  assert.equal(before, false, "overlay is empty before the click");
  await page.mouse.click(...(await at(140, 110)));
  await waitMask(0);
  const c = await overlayCheck(0);
  assert.ok(c.inMask > 100, `mask has ${c.inMask} pixels`);
  assert.equal(c.tinted, c.inMask, "every mask pixel is tinted in the region's colour");
  assert.equal(c.strayTint, 0, "nothing is tinted outside the mask");
  assert.equal(await page.evaluate(() => window.damPage.regions[0].mask[110 * 451 + 140]), 1, "the clicked pixel is in the mask");
});

await step("a dragged box becomes a second region with its own colour", async () => {
  await page.click("#newRegion");
  await page.check("input[name=tool][value=box]");
  await drag([[250, 60], [330, 140], [400, 220]]);
  await waitMask(1);
  assert.deepEqual(await page.evaluate(() => window.damPage.regions[1].box), [250, 60, 400, 220]);
  const c = await overlayCheck(1);
  assert.ok(c.inMask > 100 && c.tinted === c.inMask && c.strayTint === 0, JSON.stringify(c));
});

await step("a scribble becomes a third region; undo removes its mask", async () => {
  await page.click("#newRegion");
  await page.check("input[name=tool][value=scribble]");
  await drag([[40, 200], [70, 230], [100, 215]]);
  await waitMask(2);
  const c = await overlayCheck(2);
  assert.ok(c.inMask > 50 && c.tinted === c.inMask && c.strayTint === 0, JSON.stringify(c));
  await page.click("#undo");
  await page.waitForFunction(() => window.damPage.regions[2].mask == null);
  await drag([[40, 200], [70, 230], [100, 215]]);
  await waitMask(2);
});

await step("describe streams each region's text in several chunks, equal to the CLI's greedy captions", async () => {
  await page.fill("#temperature", GREEDY.temperature);
  await page.fill("#maxTokens", GREEDY.maxTokens);
  await page.click("#describe");
  await page.waitForFunction(() => { const r = window.damPage.results; return r.length === 3 && r.every((x) => x.status === "done" || x.status === "failed"); }, null, { timeout: 120000 });
  const results = await page.evaluate(() => window.damPage.results.map(({ text, chunks, status }) => ({ text, chunks, status })));
  assert.deepEqual(results.map((r) => r.status), ["done", "done", "done"]);
  assert.equal(results[0].text, clickGolden.text, "click region = CLI --points");
  assert.equal(results[1].text, boxGolden.text, "box region = CLI --box");
  for (const r of results) assert.ok(r.chunks > 1 && r.text.length > 0, `${r.chunks} chunks`);
  const shown = await page.locator("#results li .text").allTextContents();
  assert.deepEqual(shown, results.map((r) => r.text));
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
});

await step("download JSON holds the descriptions", async () => {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const json = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
  assert.equal(json.results[0].text, clickGolden.text);
  assert.equal(json.options.temperature, 0);
  assert.equal(json.results[1].prompt.kind, "box");
});

await step("an uploaded mask becomes a region as is; clear removes every region", async () => {
  await page.click("#clear");
  assert.equal(await page.evaluate(() => document.getElementById("overlay").getContext("2d").getImageData(0, 0, 451, 300).data.some((v) => v)), false);
  await page.setInputFiles("#maskFile", path.join(inputs, "mask_left_eye.png"));
  await waitMask(0);
  const c = await overlayCheck(0);
  assert.ok(c.inMask > 100 && c.tinted === c.inMask && c.strayTint === 0, JSON.stringify(c));
  await page.setInputFiles("#maskFile", path.join(inputs, "video_mask0.png"));
  await page.waitForFunction(() => /video_mask0\.png is \d+x\d+, the image is 451x300/.test(document.getElementById("errorText").textContent));
});

await step("a busy server's 503 shows its retry time; the page is usable again after it", async () => {
  // The server's own 503 body and header (a real one needs a full queue, which a test cannot time).
  await page.route("**/v1/chat/completions", (route) => route.fulfill({
    status: 503, headers: { "Retry-After": "1", "Content-Type": "application/json" },
    body: JSON.stringify({ error: { message: "the server is busy: 1 running, 8 waiting", type: "server_busy", param: null, code: "server_busy" } }),
  }));
  await page.click("#describe");
  await page.waitForFunction(() => window.damPage.results[0]?.status === "failed");
  assert.match(await errorText(), /busy \(503\): try again in 1 s/);
  assert.equal(await page.locator("#describe").isDisabled(), false);
  await page.unroute("**/v1/chat/completions");
});

await step("stop ends a describe that gets no answer, and the page is usable again", async () => {
  await page.route("**/v1/chat/completions", () => {}); // never answered
  await page.click("#describe");
  await page.waitForFunction(() => window.damPage.results[0]?.status === "streaming");
  await page.click("#stop");
  await page.waitForFunction(() => window.damPage.results[0]?.status === "stopped");
  assert.equal(await page.locator("#describe").isDisabled(), false);
  assert.equal(await page.locator("#stop").isDisabled(), true);
  await page.unroute("**/v1/chat/completions");
});

await step("video: 8 frames and 8 masks show as a filmstrip, and the description streams", async () => {
  await page.check("input[name=mode][value=video]");
  const frames = [...Array(8).keys()].map((i) => path.join(inputs, `video_frame${i}.png`));
  const masks = [...Array(8).keys()].map((i) => path.join(inputs, `video_mask${i}.png`));
  await page.setInputFiles("#frameFiles", frames);
  await page.setInputFiles("#videoMasks", masks);
  await page.waitForFunction(() => window.damPage.frameMasks.length === 8 && window.damPage.frameMasks.every((m) => m));
  const captions = await page.locator("#filmstrip figcaption").allTextContents();
  assert.deepEqual(captions, [...Array(8).keys()].map((i) => `frame ${i + 1}`));
  const tinted = await page.evaluate(() => [...document.querySelectorAll("#filmstrip canvas")].map((c, i) => {
    const m = window.damPage.frameMasks[i];
    const p = m.indexOf(1);
    const d = c.getContext("2d").getImageData(p % c.width, Math.floor(p / c.width), 1, 1).data;
    const f = window.damPage.frames[i].rgba;
    return d[0] !== f[p * 4] || d[1] !== f[p * 4 + 1] || d[2] !== f[p * 4 + 2];
  }));
  assert.deepEqual(tinted, Array(8).fill(true), "each frame's mask is drawn over it");
  await page.click("#describe");
  await page.waitForFunction(() => ["done", "failed"].includes(window.damPage.results[0]?.status) && window.damPage.results[0].label === "video", null, { timeout: 120000 });
  const r = await page.evaluate(() => window.damPage.results[0]);
  assert.equal(r.status, "done");
  assert.equal(r.text, videoGolden.text, "video = CLI --video --masks");
  assert.ok(r.chunks > 1, `${r.chunks} chunks`);
});

await step("video: describing without all masks is refused on the page", async () => {
  await page.setInputFiles("#frameFiles", [...Array(8).keys()].map((i) => path.join(inputs, `video_frame${i}.png`)));
  await page.click("#describe");
  assert.match(await errorText(), /8 frames and a mask on each/);
});

await step("video: a frame picked in the filmstrip and clicked on gets its own SAM mask", async () => {
  await page.locator("#filmstrip figure").nth(2).click();
  await page.waitForFunction(() => window.damPage.frame === 2);
  await page.check("input[name=tool][value=click]");
  await page.mouse.click(...(await at(110, 80)));
  await waitMask(0);
  await page.click("#useMask");
  const set = await page.evaluate(() => window.damPage.frameMasks.map((m) => m != null));
  assert.deepEqual(set, [false, false, true, false, false, false, false, false]);
  assert.equal(await page.locator("#filmstrip figcaption").nth(2).textContent(), "frame 3");
  assert.equal(await page.locator("#filmstrip figcaption").nth(0).textContent(), "frame 1 (no mask)");
});

await step("no uncaught script errors", async () => assert.deepEqual(pageErrors, []));

await context.close();
fs.rmSync(profile, { recursive: true, force: true });
console.log(failures ? `${failures} page test(s) failed` : "all page tests passed");
process.exit(failures ? 1 : 0);
