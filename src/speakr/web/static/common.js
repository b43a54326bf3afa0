// Shared helpers for Speakr pages. Plain ES module, no dependencies.

const STATUS_LABELS = {
  queued: "Queued",
  processing: "Processing",
  summarizing: "Summarizing",
  completed: "Completed",
  failed: "Failed",
};

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** Turn an error response body ({"detail": ...}) into a human sentence. */
export function errorMessage(body, status) {
  const detail = body?.detail;
  if (typeof detail === "string" && detail) return detail;
  // FastAPI validation errors: detail is a list of {msg, loc, ...}
  if (Array.isArray(detail) && detail.length) return detail.map((d) => d?.msg ?? String(d)).join("; ");
  if (status === 0) return "Network error";
  if (status === 401) return "Your session has expired. Please sign in again.";
  if (status === 413) return "The file is too large.";
  return `Request failed (HTTP ${status})`;
}

/**
 * fetch() wrapper: same-origin credentials, CSRF header, JSON in/out.
 * Pass `json: {...}` to send a JSON body. Resolves to the parsed JSON (or null),
 * rejects with an Error whose message is the server's `detail`.
 */
export async function apiFetch(url, options = {}) {
  const { json, ...init } = options;
  const headers = new Headers(init.headers || {});
  if (!headers.has("Accept")) headers.set("Accept", "application/json");
  const method = (init.method || "GET").toUpperCase();
  if (!["GET", "HEAD"].includes(method)) headers.set("X-CSRF-Token", csrfToken());
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { ...init, method, headers, credentials: "same-origin" });
  } catch {
    throw new Error("Network error");
  }
  const isJson = (response.headers.get("Content-Type") || "").includes("json");
  const body = isJson ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const err = new Error(errorMessage(body, response.status));
    err.status = response.status;
    throw err;
  }
  return body;
}

const pad = (n) => String(n).padStart(2, "0");

/** 3725.2 -> "1:02:05" (always h:mm:ss); missing -> "—". */
export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(Number(seconds))) return "—";
  const t = Math.round(Number(seconds));
  return `${Math.floor(t / 3600)}:${pad(Math.floor((t % 3600) / 60))}:${pad(t % 60)}`;
}

/** Transcript timestamp: "m:ss", or "h:mm:ss" past the first hour. */
export function formatTimestamp(seconds) {
  const t = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(t % 60)}` : `${m}:${pad(t % 60)}`;
}

/** Parse a backend ISO timestamp; a missing zone designator means UTC, not local time. */
export function parseDate(iso) {
  if (!iso) return null;
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso);
  const date = new Date(hasZone ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(iso) {
  const date = parseDate(iso);
  if (!date) return iso ?? "";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** Replace the server-rendered UTC text of <time data-localize> elements with the browser's locale. */
export function localizeTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-localize]")) {
    const date = parseDate(el.getAttribute("datetime"));
    if (!date) continue;
    el.textContent = formatDate(el.getAttribute("datetime"));
    el.title = date.toString();
  }
}

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? (status ? status[0].toUpperCase() + status.slice(1) : "Unknown");
}

export function isTerminal(status) {
  return status === "completed" || status === "failed";
}

/** Class-safe status name for `badge-<status>` (statuses are plain words, but be defensive). */
export function statusClass(status) {
  return `badge badge-${String(status || "").replace(/[^a-z_-]/gi, "")}`;
}

export function errorText(error) {
  return error ? `Step ${error.step} failed: ${error.message}` : "";
}

/**
 * Live recording updates. Listens to the server-sent `recording` events; if
 * EventSource is missing or errors, falls back to calling `fallbackPoll()`
 * (async, returns one recording or a list) every `interval` ms.
 * `onEvent(recording)` is called for each update. Returns an unsubscribe function.
 */
export function subscribeToRecordingEvents(onEvent, fallbackPoll, { interval = 3000 } = {}) {
  let source = null;
  let timer = null;
  let stopped = false;

  const pollOnce = async () => {
    try {
      const result = await fallbackPoll();
      for (const item of [].concat(result ?? [])) onEvent(item);
    } catch (err) {
      console.warn("Speakr: status poll failed:", err.message);
    }
  };
  const loop = async () => {
    if (stopped) return;
    if (!document.hidden) await pollOnce();
    if (!stopped) timer = setTimeout(loop, interval);
  };
  const startPolling = () => {
    source?.close();
    source = null;
    if (!timer && !stopped) timer = setTimeout(loop, 0);
  };

  if ("EventSource" in window) {
    source = new EventSource("/api/v1/events");
    source.addEventListener("recording", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent(data);
    });
    // Catch up on anything that changed between page render and stream open.
    source.addEventListener("open", pollOnce, { once: true });
    source.addEventListener("error", startPolling);
  } else {
    startPolling();
  }

  return () => {
    stopped = true;
    source?.close();
    clearTimeout(timer);
  };
}
