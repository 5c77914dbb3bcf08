// The playground: form → free plan preview → v2 submit → live progress → video; history.

import { ApiError, FINAL, call, events, jobError, key, resultPath, sameOrigin } from "./api.js";
import { FieldErrors, referenceFields } from "./fields.js";
import { loadHistory } from "./history.js";
import { ResultView } from "./result.js";
import { References, formatBytes, renderSlots } from "./references.js";
import { planFacts, renderTimeline } from "./timeline.js";

const config = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);

const el = {
  key: $("key"), keyForm: $("key-form"), keyForget: $("key-forget"), keyError: $("key-error"),
  credits: $("credits"),
  slots: $("slots"), drop: $("drop"), files: $("files"), urlForm: $("url-form"), url: $("url"),
  refsCount: $("refs-count"), refsRules: $("refs-rules"), refsError: $("refs-error"),
  prompt: $("prompt"), promptCount: $("prompt-count"), promptError: $("prompt-error"),
  seed: $("seed"), dice: $("dice"), seedError: $("seed-error"),
  amplitude: $("movement_amplitude"), bgm: $("bgm"), settingsError: $("settings-error"),
  generate: $("generate"), costLine: $("cost-line"), submitError: $("submit-error"),
  planStatus: $("plan-status"), timeline: $("timeline"), planMeta: $("plan-meta"),
  runSection: $("run-section"), runStatus: $("run-status"), progress: $("progress"),
  cancel: $("cancel"), runNote: $("run-note"),
  resultSection: $("result-section"), video: $("video"), facts: $("result-facts"),
  download: $("download"), reuseSeed: $("reuse-seed"),
  history: $("history"), historyStatus: $("history-status"), historyRefresh: $("history-refresh"),
};

const refs = new References(config, () => {
  renderSlots(el.slots, refs);
  el.refsCount.textContent = `${refs.items.length} / ${config.max_references}`;
  el.drop.hidden = refs.full;
  errors.clear("refs");
  schedulePlan();
});

// ---------------------------------------------------------------- errors beside their field

const errors = new FieldErrors(
  {
    key: el.keyError, refs: el.refsError, prompt: el.promptError, seed: el.seedError,
    settings: el.settingsError, submit: el.submitError,
  },
  { key: el.key, prompt: el.prompt, seed: el.seed },
  refs,
  () => renderSlots(el.slots, refs),
);

// ---------------------------------------------------------------- the key

function credits(remaining) {
  if (remaining === undefined || remaining === null) return;
  el.credits.textContent = `${remaining} credit${remaining === "1" ? "" : "s"} left`;
}

el.key.value = key.get();
el.keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = el.key.value.trim();
  if (!value) {
    errors.show("key", "Enter the API key the operator gave you (it starts with rv_).");
    return;
  }
  key.set(value);
  errors.clear("key");
  refreshCredits();
  refreshHistory();
  schedulePlan(0);
});
el.keyForget.addEventListener("click", () => {
  key.forget();
  el.key.value = "";
  el.credits.textContent = "";
  el.history.replaceChildren();
  el.historyStatus.textContent = "Key forgotten: it is no longer stored in this browser.";
});

// ---------------------------------------------------------------- references

el.refsRules.textContent =
  `JPEG, PNG or WebP, at least ${config.min_side}×${config.min_side} pixels, aspect ratio between ` +
  `1:${config.max_aspect} and ${config.max_aspect}:1, files up to ${formatBytes(config.max_base64_bytes)}; ` +
  `up to ${config.max_references}. Name them in the prompt as @1, @2… (order matters).`;

async function addFiles(files) {
  const problems = [];
  for (const file of files) {
    try {
      await refs.addFile(file);
    } catch (error) {
      problems.push(error.message);
    }
  }
  errors.show("refs", problems.join(" "));
}

async function addUrl(text) {
  try {
    await refs.addUrl(text);
    return true;
  } catch (error) {
    errors.show("refs", error.message);
    return false;
  }
}

el.drop.addEventListener("click", () => el.files.click());
el.drop.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    el.files.click();
  }
});
el.files.addEventListener("change", async () => {
  await addFiles([...el.files.files]);
  el.files.value = "";
});
for (const type of ["dragenter", "dragover"]) {
  el.drop.addEventListener(type, (event) => {
    event.preventDefault();
    el.drop.classList.add("over");
  });
}
el.drop.addEventListener("dragleave", () => el.drop.classList.remove("over"));
el.drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  el.drop.classList.remove("over");
  const files = [...(event.dataTransfer?.files || [])];
  if (files.length) return addFiles(files);
  const text = event.dataTransfer?.getData("text/uri-list") || event.dataTransfer?.getData("text/plain");
  if (text) addUrl(text.split("\n")[0]);
});
el.urlForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (el.url.value.trim() && (await addUrl(el.url.value))) el.url.value = "";
});
document.addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
  if (files.length) {
    event.preventDefault();
    addFiles(files);
    return;
  }
  // Text pastes into a field stay text; elsewhere a pasted URL becomes a reference.
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
  const text = (event.clipboardData?.getData("text/plain") || "").trim();
  if (/^(https?:\/\/|data:image\/)/i.test(text)) {
    event.preventDefault();
    addUrl(text);
  }
});
el.slots.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = Number(button.dataset.id);
  const index = refs.items.findIndex((item) => item.id === id);
  if (button.dataset.action === "remove") refs.remove(id);
  if (button.dataset.action === "left") refs.move(id, -1);
  if (button.dataset.action === "right") refs.move(id, 1);
  // Keep the keyboard with the slot it moved (the same arrow, or the other one at an end),
  // or, after a removal, on the slot that took its place.
  const slots = [...el.slots.querySelectorAll(".slot")];
  const moved = slots.find((li) => Number(li.dataset.id) === id);
  const candidates = moved
    ? [button.dataset.action, "left", "right"].map((a) => moved.querySelector(`button[data-action="${a}"]`))
    : [...(slots[Math.min(index, slots.length - 1)]?.querySelectorAll("button") || [])];
  const focus = candidates.find((b) => b && !b.disabled);
  (focus || el.drop).focus();
});
el.slots.addEventListener("dragstart", (event) => {
  const li = event.target.closest(".slot");
  if (li) event.dataTransfer.setData("application/x-refvid-slot", li.dataset.id);
});
el.slots.addEventListener("dragover", (event) => {
  if (event.dataTransfer.types.includes("application/x-refvid-slot")) event.preventDefault();
});
el.slots.addEventListener("drop", (event) => {
  const id = Number(event.dataTransfer.getData("application/x-refvid-slot"));
  const li = event.target.closest(".slot");
  if (!id || !li) return;
  event.preventDefault();
  refs.moveTo(id, [...el.slots.children].indexOf(li));
});

// ---------------------------------------------------------------- prompt and settings

function promptLength() {
  // The server counts Unicode code points (Python str), not UTF-16 units.
  return [...el.prompt.value].length;
}

function updateCounter() {
  const n = promptLength();
  el.promptCount.textContent = `${n} / ${config.prompt_max_chars}`;
  el.promptCount.classList.toggle("over", n > config.prompt_max_chars);
  el.promptCount.classList.toggle("near", n > config.prompt_max_chars * 0.9 && n <= config.prompt_max_chars);
  if (n <= config.prompt_max_chars && el.promptError.textContent.includes("characters")) errors.clear("prompt");
}

function radio(name) {
  return document.querySelector(`input[name="${name}"]:checked`).value;
}

function updateCost() {
  const cost = config.cost[radio("duration")];
  el.costLine.textContent = `Costs ${cost} credit${cost === "1" ? "" : "s"}; refunded if it fails or you cancel.`;
}

el.prompt.addEventListener("input", () => {
  updateCounter();
  schedulePlan();
});
el.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    submit();
  }
});
for (const input of document.querySelectorAll("#settings input, #settings select")) {
  input.addEventListener("change", () => {
    updateCost();
    errors.clear("settings");
    schedulePlan();
  });
}
el.seed.addEventListener("input", () => {
  errors.clear("seed");
  schedulePlan();
});
el.dice.addEventListener("click", () => {
  el.seed.value = String(1 + Math.floor(Math.random() * config.seed_max));
  errors.clear("seed");
  schedulePlan(0);
});

/** The request body from the form, or null after showing what to fix (browser-side checks). */
function body({ quiet = false } = {}) {
  const problems = {};
  if (!refs.items.length) problems.refs = "Add at least one reference image.";
  const n = promptLength();
  if (!el.prompt.value.trim()) problems.prompt = "Write a prompt: what happens, shot by shot.";
  else if (n > config.prompt_max_chars) {
    problems.prompt = `The prompt is ${n} characters; the limit is ${config.prompt_max_chars} — shorten it by ${n - config.prompt_max_chars}.`;
  }
  const seedText = el.seed.value.trim();
  const seed = seedText === "" ? 0 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > config.seed_max) {
    problems.seed = `The seed must be a whole number from 0 to ${config.seed_max} (0 picks one).`;
  }
  if (Object.keys(problems).length) {
    if (!quiet) for (const [where, message] of Object.entries(problems)) errors.show(where, message);
    return null;
  }
  return {
    prompt: el.prompt.value,
    image_urls: refs.sources(),
    aspect_ratio: radio("aspect_ratio"),
    duration: Number(radio("duration")),
    seed,
    bgm: el.bgm.checked,
    movement_amplitude: el.amplitude.value,
  };
}

// ---------------------------------------------------------------- the free plan preview

const PLAN_DEBOUNCE_MS = 500;
let planTimer = 0;
let planAbort = null;

function schedulePlan(delay = PLAN_DEBOUNCE_MS) {
  clearTimeout(planTimer);
  planTimer = setTimeout(updatePlan, delay);
}

async function updatePlan() {
  const data = body({ quiet: true });
  if (!data || !key.get()) {
    if (!key.get()) el.planStatus.textContent = "Enter your API key to preview the shot plan (it is free).";
    else el.planStatus.textContent = "Add a reference and write a prompt to see the shots before you spend credits.";
    el.timeline.replaceChildren();
    el.timeline.dataset.shots = "0";
    el.planMeta.replaceChildren();
    return;
  }
  planAbort?.abort();
  const abort = (planAbort = new AbortController());
  el.planStatus.textContent = "Planning…";
  el.timeline.setAttribute("aria-busy", "true");
  try {
    const answer = await call("POST", "/v2/plan", data, { signal: abort.signal });
    if (abort.signal.aborted) return;
    drawPlan(answer.plan, data.seed);
    credits(answer.remaining_credits);
    errors.clear("key");
    refs.clearErrors();
    renderSlots(el.slots, refs);
  } catch (error) {
    if (abort.signal.aborted || error.name === "AbortError") return;
    if (error instanceof ApiError && error.status === 429) {
      el.planStatus.textContent = `Plan previews are rate limited; updating again in ${error.retryAfter || 5} s.`;
      schedulePlan((error.retryAfter || 5) * 1000);
      return;
    }
    errors.fromApi(error, "submit");
    el.planStatus.textContent = `No plan: ${error.message}`;
  } finally {
    if (planAbort === abort) el.timeline.removeAttribute("aria-busy");
  }
}

function drawPlan(plan, askedSeed) {
  const count = renderTimeline(el.timeline, plan, (n) => refs.thumbOf(n));
  const { facts, warnings, note } = planFacts(plan);
  el.planStatus.textContent = `${count} shot${count === 1 ? "" : "s"} over ${(plan.frame_count / plan.fps).toFixed(0)} s.`;
  const meta = [];
  const line = document.createElement("p");
  line.className = "hint";
  line.textContent = facts.join(" · ");
  meta.push(line);
  if (askedSeed === 0) {
    const keep = document.createElement("p");
    keep.className = "hint";
    keep.append(`Seed 0 picks a new seed on submit, so the moves may differ. `);
    const b = document.createElement("button");
    b.type = "button";
    b.className = "quiet";
    b.textContent = `Keep seed ${plan.seed}`;
    b.addEventListener("click", () => {
      el.seed.value = String(plan.seed);
      schedulePlan(0);
    });
    keep.append(b);
    meta.push(keep);
  }
  for (const warning of warnings) {
    const w = document.createElement("p");
    w.className = "warning";
    w.textContent = warning;
    meta.push(w);
  }
  if (note) {
    const n = document.createElement("p");
    n.className = "hint";
    n.textContent = note;
    meta.push(n);
  }
  el.planMeta.replaceChildren(...meta);
}

// ---------------------------------------------------------------- submit, watch, cancel

let current = null; // { id, abort, cost }

function setRunning(running) {
  el.generate.disabled = running;
  el.generate.textContent = running ? "Rendering…" : "Generate video";
  el.cancel.hidden = !running;
}

function describe(doc) {
  if (doc.status === "QUEUED") {
    const position = doc.queue_position;
    return position ? `Queued — position ${position} in the queue.` : "Queued.";
  }
  if (doc.status === "PROCESSING") return `Rendering — ${Math.round((doc.progress || 0) * 100)} %`;
  return doc.status;
}

async function submit() {
  if (current) return;
  errors.clearAll();
  if (!key.get()) {
    errors.show("key", "Enter your API key first: the request is charged to it.");
    el.key.focus();
    return;
  }
  const data = body();
  if (!data) return;
  setRunning(true);
  let submitted;
  try {
    submitted = await call("POST", "/v2/vidu-q1-reference-to-video", data);
  } catch (error) {
    setRunning(false);
    errors.fromApi(error);
    return;
  }
  const abort = new AbortController();
  current = { id: submitted.request_id, abort, cost: submitted.cost, submitted };
  credits(submitted.remaining_credits);
  el.runSection.hidden = false;
  el.progress.value = 0;
  el.runNote.textContent = `Charged ${submitted.cost} credit${submitted.cost === "1" ? "" : "s"} · request ${submitted.request_id}`;
  el.runStatus.textContent = describe(submitted);
  refreshHistory();
  let last = submitted;
  try {
    const stream = sameOrigin(submitted.stream_url || `/v2/requests/${submitted.request_id}/status/stream`);
    for await (const doc of events(stream, { signal: abort.signal })) {
      last = doc;
      el.runStatus.textContent = describe(doc);
      el.progress.value = doc.status === "COMPLETED" ? 1 : doc.progress || 0;
      if (FINAL.has(doc.status)) break;
    }
    if (!FINAL.has(last.status)) last = await pollUntilFinal(submitted.request_id, abort.signal);
  } catch (error) {
    if (abort.signal.aborted) return; // cancel() takes over
    errors.fromApi(error);
    finish();
    return;
  }
  await settle(last, submitted);
}

async function pollUntilFinal(id, signal) {
  for (;;) {
    const doc = await call("GET", `/v2/requests/${id}/status`, undefined, { signal });
    el.runStatus.textContent = describe(doc);
    el.progress.value = doc.progress || 0;
    if (FINAL.has(doc.status)) return doc;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function settle(doc, submitted) {
  const id = submitted.request_id;
  if (doc.status === "COMPLETED") {
    el.runStatus.textContent = "Done.";
    await showResult(id, resultPath(submitted));
  } else if (doc.status === "FAILED") {
    const message = jobError(doc);
    el.runStatus.textContent = "Failed.";
    el.runNote.textContent = `Not charged: ${submitted.cost} credit${submitted.cost === "1" ? "" : "s"} refunded.`;
    const status = (doc.error && doc.error.status) || 500;
    errors.fromApi(new ApiError(status, message, { fields: referenceFields(message) }));
    await refreshCredits();
  } else if (doc.status === "CANCELLED") {
    el.runStatus.textContent = "Cancelled.";
    await refreshCredits();
  }
  finish();
}

/** The key's balance now (after a charge or a refund). */
async function refreshCredits() {
  try {
    credits((await call("GET", "/v1/get-user-credits")).remaining_credits);
  } catch {
    // The balance line is a convenience; the actions that matter report their own errors.
  }
}

function finish() {
  current = null;
  setRunning(false);
  refreshHistory();
}

el.generate.addEventListener("click", submit);
el.cancel.addEventListener("click", async () => {
  if (!current) return;
  const { id, abort, cost } = current; // the stream may see CANCELLED and finish() first
  el.cancel.disabled = true;
  try {
    const doc = await call("POST", `/v2/requests/${id}/cancel`);
    abort.abort();
    el.runStatus.textContent = "Cancelled.";
    el.progress.value = 0;
    const refunded = doc.refunded ?? cost;
    el.runNote.textContent =
      `Cancelled: ${refunded} credit${refunded === "1" ? "" : "s"} refunded` +
      (doc.remaining_credits !== undefined ? ` — ${doc.remaining_credits} left.` : ".");
    credits(doc.remaining_credits);
    finish();
  } catch (error) {
    // 409: it finished first; the stream reports how.
    el.runNote.textContent = error.message;
  } finally {
    el.cancel.disabled = false;
  }
});

// ---------------------------------------------------------------- the result

const result = new ResultView(
  { section: el.resultSection, video: el.video, facts: el.facts, download: el.download, reuseSeed: el.reuseSeed },
  (error) => errors.fromApi(error),
  credits,
);
const showResult = (id, path) => result.show(id, path);

el.reuseSeed.addEventListener("click", () => {
  el.seed.value = el.reuseSeed.dataset.seed || "0";
  schedulePlan(0);
  el.seed.focus();
});

// ---------------------------------------------------------------- history

async function refreshHistory() {
  if (!key.get()) return;
  el.historyStatus.textContent = "Loading…";
  try {
    await loadHistory(el.history, el.historyStatus, (id) => {
      showResult(id).then(() => el.video.focus());
    });
  } catch (error) {
    el.historyStatus.textContent = "";
    errors.fromApi(error, "submit");
  }
}
el.historyRefresh.addEventListener("click", refreshHistory);

// ---------------------------------------------------------------- start

updateCounter();
updateCost();
el.cancel.hidden = true;
if (key.get()) {
  refreshCredits();
  refreshHistory();
} else {
  el.key.focus();
}
schedulePlan(0);
document.body.dataset.ready = "true";
