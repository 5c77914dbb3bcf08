// Talking to this server's v2 API: the key in a header, errors read in either envelope,
// server-sent events read from fetch (EventSource cannot send the x-api-key header).

const KEY_STORAGE = "refvid.apiKey";

export const key = {
  get: () => localStorage.getItem(KEY_STORAGE) || "",
  set: (value) => localStorage.setItem(KEY_STORAGE, value),
  forget: () => localStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(status, message, { code = "", fields = [], requestId = "", retryAfter = null, body = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

/** The human message, code and fields of an error body, whichever envelope it uses:
 * {"error": "<message>", "code", "fields", "request_id"} or {"error": {"code", "message", ...}}. */
export function readError(status, body) {
  const error = body && body.error;
  if (typeof error === "string") {
    return { message: error, code: body.code || "", fields: body.fields || [], requestId: body.request_id || "" };
  }
  if (error && typeof error === "object") {
    return {
      message: error.message || error.detail || `HTTP ${status}`,
      code: error.code || "",
      fields: error.fields || body.fields || [],
      requestId: error.request_id || body.request_id || "",
    };
  }
  return { message: `the server answered HTTP ${status}`, code: "", fields: [], requestId: "" };
}

/** A job's error (from a status or result document) as one line, or "". */
export function jobError(doc) {
  const error = doc && doc.error;
  if (!error) return "";
  return typeof error === "string" ? error : error.message || error.code || "failed";
}

async function toError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const info = readError(response.status, body);
  return new ApiError(response.status, info.message, {
    ...info,
    retryAfter: Number(response.headers.get("retry-after")) || null,
    body,
  });
}

function headers(extra = {}) {
  return { "x-api-key": key.get(), ...extra };
}

/** JSON in, JSON out; non-2xx answers throw ApiError (with the body kept in .body). */
export async function call(method, path, body = undefined, { signal, extraHeaders = {} } = {}) {
  const init = { method, headers: headers(extraHeaders), signal, cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await toError(response);
  return response.json();
}

/** A file behind the key (video, cover) as an object URL; the caller revokes it. */
export async function blobUrl(path, { signal } = {}) {
  const response = await fetch(path, { headers: headers(), signal, cache: "no-store" });
  if (!response.ok) throw await toError(response);
  return URL.createObjectURL(await response.blob());
}

/** Each `data:` document of a server-sent event stream, parsed, until the stream ends. */
export async function* events(path, { signal } = {}) {
  const response = await fetch(path, { headers: headers({ Accept: "text/event-stream" }), signal, cache: "no-store" });
  if (!response.ok) throw await toError(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

/** Where a submitted request's result lives (``response_url`` in Segmind's shape). */
export function resultPath(submitted) {
  const url = submitted.response_url || submitted.result_url || `/v2/requests/${submitted.request_id}`;
  return sameOrigin(url);
}

/** A URL the server gave, as a path on this page's server (which is the one that made it). */
export function sameOrigin(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

export const FINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
