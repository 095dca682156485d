// Describing: one streamed /v1/chat/completions request per region (or one for the video), the
// results list with timings, stop, and the JSON export.
import { $, COLOURS, pictureUrl, post, showError, state } from "/web/core.js";

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
