// The finished video: the player with the cover as poster, the download link, and its facts
// (seed, size, cost, credits left). Files behind the key are fetched and shown as blob URLs.

import { ApiError, blobUrl, call, sameOrigin } from "./api.js";

function fact(name, value) {
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.textContent = value;
  dd.dataset.fact = name;
  return [dt, dd];
}

export class ResultView {
  /** `el`: section, video, facts, download, reuseSeed; `onError(error)`; `onCredits(balance)`. */
  constructor(el, onError, onCredits) {
    this.el = el;
    this.onError = onError;
    this.onCredits = onCredits;
    this.urls = [];
  }

  /** Fetch request `id`'s result (at `path`) and its files, and show them. */
  async show(id, path = `/v2/requests/${id}`) {
    let result;
    try {
      result = await call("GET", path);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.body) {
        this.onError(error);
        return;
      }
      result = error.body; // an ended request answers 422 or 409 with its document
    }
    // video_url and cover_url are read with the key; `output` (a signed link) is the fallback.
    const output = typeof result.output === "string" ? result.output : result.output?.video_url;
    const videoPath = sameOrigin(result.video_url || output || `/v2/requests/${id}/video`);
    const coverPath = sameOrigin(result.cover_url || `/v2/requests/${id}/cover`);
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    try {
      const [video, cover] = await Promise.all([blobUrl(videoPath), blobUrl(coverPath).catch(() => "")]);
      this.urls.push(video);
      if (cover) this.urls.push(cover);
      this.el.video.poster = cover;
      this.el.video.src = video;
      this.el.download.href = video;
      this.el.download.download = `${id}.mp4`;
    } catch (error) {
      this.onError(error);
      return;
    }
    const metrics = result.metrics || {};
    const cost = result.cost ?? metrics.cost;
    const remaining = result.remaining_credits ?? metrics.remaining_credits;
    const seconds = result.timings?.generation_seconds ?? metrics.inference_time;
    const rows = [
      fact("Seed", String(result.seed)),
      fact("Size", `${result.width}×${result.height}, ${result.duration} s`),
      fact("Cost", `${cost} credit${String(cost) === "1" ? "" : "s"}`),
      fact("Credits left", String(remaining)),
    ];
    if (seconds !== undefined && seconds !== null) rows.push(fact("Render time", `${Number(seconds).toFixed(1)} s`));
    rows.push(fact("Request", id));
    this.el.facts.replaceChildren(...rows.flat());
    this.el.reuseSeed.dataset.seed = String(result.seed);
    this.onCredits(remaining);
    this.el.section.hidden = false;
    this.el.section.dataset.request = id;
  }
}
