// Reference slots: add (files, drop, paste, URL), check against the API's limits in the
// browser, show thumbnails, reorder, remove. The server checks everything again.

const SIGNATURES = [
  { mime: "image/jpeg", name: "JPEG", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    mime: "image/png",
    name: "PNG",
    test: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v),
  },
  {
    mime: "image/webp",
    name: "WebP",
    test: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP",
  },
];

function ascii(bytes, start, end) {
  return String.fromCharCode(...bytes.slice(start, end));
}

function sniff(bytes) {
  return SIGNATURES.find((s) => s.test(bytes)) || null;
}

export function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser could not decode it"));
    img.src = src;
  });
}

function readDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

let nextId = 1;

export class References {
  /** `config` holds the server's limits; `onChange` runs after every change. */
  constructor(config, onChange) {
    this.config = config;
    this.onChange = onChange;
    this.items = [];
  }

  get full() {
    return this.items.length >= this.config.max_references;
  }

  /** The checks the server makes on decoded size, shape and pixel count; "" when fine. */
  checkSize(width, height) {
    const c = this.config;
    if (Math.min(width, height) < c.min_side) {
      return `is ${width}×${height} pixels; references must be at least ${c.min_side}×${c.min_side} pixels — use a larger image`;
    }
    if (Math.max(width, height) > c.max_aspect * Math.min(width, height)) {
      const ratio = (Math.max(width, height) / Math.min(width, height)).toFixed(2);
      const shape = width > height ? `${ratio}:1` : `1:${ratio}`;
      return `is ${width}×${height} pixels, an aspect ratio of ${shape}; references must be between 1:4 and 4:1 — crop it`;
    }
    if (width * height > c.max_pixels) {
      return `is ${((width * height) / 1e6).toFixed(1)} megapixels; the limit is ${c.max_pixels / 1e6} — downscale it`;
    }
    return "";
  }

  /** Add a File or Blob; throws Error with a message naming the file and what to change. */
  async addFile(file) {
    const name = file.name || "pasted image";
    if (this.full) throw new Error(`${name}: at most ${this.config.max_references} references; remove one first`);
    if (file.size > this.config.max_base64_bytes) {
      throw new Error(
        `${name} is ${formatBytes(file.size)}; images sent from the browser may be at most ` +
          `${formatBytes(this.config.max_base64_bytes)} — use a smaller file`,
      );
    }
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const format = sniff(head);
    if (!format) throw new Error(`${name} is not a JPEG, PNG or WebP image — convert it to one of those`);
    const typed = new Blob([file], { type: format.mime });
    const thumb = URL.createObjectURL(typed);
    let img;
    try {
      img = await loadImage(thumb);
    } catch {
      URL.revokeObjectURL(thumb);
      throw new Error(`${name}: the ${format.name} data could not be decoded — the file is damaged; export it again`);
    }
    const problem = this.checkSize(img.naturalWidth, img.naturalHeight);
    if (problem) {
      URL.revokeObjectURL(thumb);
      throw new Error(`${name} ${problem}`);
    }
    const source = await readDataUrl(typed);
    this.items.push({
      id: nextId++,
      kind: "file",
      name,
      source,
      thumb,
      revoke: true,
      width: img.naturalWidth,
      height: img.naturalHeight,
      detail: `${format.name} · ${img.naturalWidth}×${img.naturalHeight} · ${formatBytes(file.size)}`,
      error: "",
    });
    this.onChange();
  }

  /** Add an http(s) URL or a data:image URI; the server fetches URLs (and checks them). */
  async addUrl(text) {
    const url = text.trim();
    if (this.full) throw new Error(`at most ${this.config.max_references} references; remove one first`);
    if (url.startsWith("data:")) {
      if (!/^data:image\/(jpeg|jpg|png|webp);base64,/i.test(url)) {
        throw new Error("a data URI must be data:image/jpeg, png or webp;base64,…");
      }
      const response = await fetch(url);
      const blob = await response.blob();
      return this.addFile(new File([blob], "pasted data URI"));
    }
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`“${url.slice(0, 60)}” is not a URL; image URLs start with http:// or https://`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new Error("image URLs must start with http:// or https://");
    }
    const item = {
      id: nextId++,
      kind: "url",
      name: parsed.hostname + parsed.pathname,
      source: url,
      thumb: url,
      revoke: false,
      width: 0,
      height: 0,
      detail: "URL · fetched by the server",
      error: "",
    };
    // A preview when the browser can reach it; the server's own fetch is what counts.
    try {
      const img = await loadImage(url);
      item.width = img.naturalWidth;
      item.height = img.naturalHeight;
      const problem = this.checkSize(item.width, item.height);
      if (problem) throw new Error(`${item.name} ${problem}`);
      item.detail = `URL · ${item.width}×${item.height}`;
    } catch (error) {
      if (item.width) throw error;
      item.thumb = "";
      item.detail = "URL · no preview here; the server will fetch it";
    }
    this.items.push(item);
    this.onChange();
  }

  remove(id) {
    const index = this.items.findIndex((item) => item.id === id);
    if (index < 0) return;
    const [item] = this.items.splice(index, 1);
    if (item.revoke) URL.revokeObjectURL(item.thumb);
    this.onChange();
  }

  move(id, delta) {
    const from = this.items.findIndex((item) => item.id === id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= this.items.length) return;
    const [item] = this.items.splice(from, 1);
    this.items.splice(to, 0, item);
    this.onChange();
  }

  moveTo(id, to) {
    const from = this.items.findIndex((item) => item.id === id);
    if (from < 0 || from === to) return;
    this.move(id, to - from);
  }

  setError(index, message) {
    if (this.items[index]) this.items[index].error = message;
  }

  clearErrors() {
    for (const item of this.items) item.error = "";
  }

  sources() {
    return this.items.map((item) => item.source);
  }

  /** Thumbnail URL of reference `n` (1-based, as plans number them), or "". */
  thumbOf(n) {
    const item = this.items[n - 1];
    return item ? item.thumb : "";
  }
}

/** Draw the slots into `list` (an <ol>); buttons carry data-action and data-id. */
export function renderSlots(list, refs) {
  list.replaceChildren(
    ...refs.items.map((item, index) => {
      const li = document.createElement("li");
      li.className = "slot" + (item.error ? " invalid" : "");
      li.draggable = true;
      li.dataset.id = item.id;
      const figure = document.createElement("div");
      figure.className = "thumb";
      if (item.thumb) {
        const img = document.createElement("img");
        img.src = item.thumb;
        img.alt = `Reference ${index + 1}: ${item.name}`;
        img.draggable = false;
        figure.append(img);
      } else {
        figure.textContent = "URL";
      }
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = `@${index + 1}`;
      figure.append(tag);
      const info = document.createElement("p");
      info.className = "slot-info";
      info.textContent = item.detail;
      info.title = item.name;
      const tools = document.createElement("div");
      tools.className = "slot-tools";
      tools.append(
        button("←", "left", item.id, `Move reference ${index + 1} earlier`, index === 0),
        button("→", "right", item.id, `Move reference ${index + 1} later`, index === refs.items.length - 1),
        button("×", "remove", item.id, `Remove reference ${index + 1}`, false),
      );
      li.append(figure, info, tools);
      if (item.error) {
        const error = document.createElement("p");
        error.className = "error slot-error";
        error.textContent = item.error;
        li.append(error);
      }
      return li;
    }),
  );
}

function button(text, action, id, label, disabled) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.action = action;
  b.dataset.id = id;
  b.setAttribute("aria-label", label);
  b.title = label;
  b.disabled = disabled;
  return b;
}
