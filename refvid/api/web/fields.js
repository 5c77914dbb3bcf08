// Errors shown beside the field they are about: the browser's own checks, and the API's
// answers, placed by the field names the API gives (`fields`) or names in its message.

import { ApiError } from "./api.js";

/** Which part of the form an API field name belongs to. */
function placeOf(field) {
  if (field.startsWith("image_urls")) return "refs";
  if (field === "prompt") return "prompt";
  if (field === "seed") return "seed";
  if (["aspect_ratio", "duration", "movement_amplitude", "bgm"].includes(field)) return "settings";
  return "submit";
}

/** The reference a message names (`image_urls[2]: …`), as an API `fields` list. */
export function referenceFields(message) {
  const match = /image_urls\[(\d+)\]:?\s*(.*)/.exec(message || "");
  return match ? [{ field: `image_urls[${match[1]}]`, message: match[2] || message }] : [];
}

export class FieldErrors {
  /** `slots`: place → element for the message; `inputs`: place → the input to mark invalid;
   * `refs` gets per-reference messages and `redraw()` shows them. */
  constructor(slots, inputs, refs, redraw) {
    this.slots = slots;
    this.inputs = inputs;
    this.refs = refs;
    this.redraw = redraw;
  }

  show(where, message) {
    this.slots[where].textContent = message;
    const input = this.inputs[where];
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  clear(where) {
    this.show(where, "");
  }

  clearAll() {
    for (const where of Object.keys(this.slots)) this.clear(where);
    this.refs.clearErrors();
    this.redraw();
  }

  /** Put an API error beside the field it names (else at `fallback`); returns where it went. */
  fromApi(error, fallback = "submit") {
    if (!(error instanceof ApiError)) {
      this.show(fallback, `Could not reach the server: ${error.message}`);
      return fallback;
    }
    if (error.status === 401) {
      this.show("key", error.message);
      return "key";
    }
    const named = error.fields && error.fields.length ? error.fields : referenceFields(error.message);
    if (!named.length) {
      const extra = error.retryAfter ? ` (retry in ${error.retryAfter} s)` : "";
      this.show(fallback, error.message + extra);
      return fallback;
    }
    const byPlace = {};
    for (const f of named) {
      const place = placeOf(f.field || "");
      (byPlace[place] ||= []).push(place === "submit" ? `${f.field}: ${f.message}` : f.message);
      const slot = /^image_urls\[(\d+)\]/.exec(f.field || "");
      if (slot) this.refs.setError(Number(slot[1]), f.message);
    }
    this.redraw();
    for (const [place, messages] of Object.entries(byPlace)) {
      this.show(place, place === "refs" ? error.message : messages.join("; "));
    }
    return Object.keys(byPlace)[0];
  }
}
