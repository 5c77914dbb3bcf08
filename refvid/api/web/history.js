// The key's recent requests (GET /v2/requests), newest first, with covers and actions.

import { blobUrl, call, jobError } from "./api.js";

let covers = [];

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Fill `list`; `onPlay(id)` opens a finished video in the player. Returns the rows. */
export async function loadHistory(list, status, onPlay, { limit = 20 } = {}) {
  const page = await call("GET", `/v2/requests?limit=${limit}`);
  for (const url of covers) URL.revokeObjectURL(url);
  covers = [];
  const rows = page.data || [];
  status.textContent = rows.length ? "" : "No requests yet with this key.";
  list.replaceChildren(
    ...rows.map((row) => {
      const li = document.createElement("li");
      li.className = "entry";
      li.dataset.id = row.request_id;
      li.dataset.status = row.status;
      const cover = document.createElement("div");
      cover.className = "entry-cover";
      const body = document.createElement("div");
      body.className = "entry-body";
      const head = document.createElement("p");
      const badge = document.createElement("span");
      badge.className = `status status-${row.status.toLowerCase()}`;
      badge.textContent = row.status;
      const id = document.createElement("code");
      id.textContent = row.request_id;
      head.append(badge, " ", id);
      const meta = document.createElement("p");
      meta.className = "hint";
      meta.textContent = when(row.created_at);
      body.append(head, meta);
      const error = jobError(row);
      if (error) {
        const e = document.createElement("p");
        e.className = "hint entry-error";
        e.textContent = error;
        body.append(e);
      }
      if (row.status === "COMPLETED") {
        const play = document.createElement("button");
        play.type = "button";
        play.className = "quiet";
        play.textContent = "Open";
        play.setAttribute("aria-label", `Open the video of ${row.request_id}`);
        play.addEventListener("click", () => onPlay(row.request_id));
        body.append(play);
        blobUrl(`/v2/requests/${row.request_id}/cover`)
          .then((url) => {
            covers.push(url);
            const img = document.createElement("img");
            img.src = url;
            img.alt = `cover of ${row.request_id}`;
            cover.append(img);
          })
          .catch(() => {
            cover.textContent = "expired";
          });
      } else {
        cover.textContent = row.status === "FAILED" ? "✕" : row.status === "CANCELLED" ? "–" : "…";
      }
      li.append(cover, body);
      return li;
    }),
  );
  return rows;
}
