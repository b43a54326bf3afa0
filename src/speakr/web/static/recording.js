// Recording page: click-to-seek transcript, live progress, actions.

// A static `import "./common.js"` would drop our ?v= cache-buster, so pass it along.
const { apiFetch, isTerminal, localizeTimes, statusClass, statusLabel, subscribeToRecordingEvents } =
  await import(`./common.js${new URL(import.meta.url).search}`);

const recording = JSON.parse(document.getElementById("recording-data").textContent);
const api = `/api/v1/recordings/${encodeURIComponent(recording.id)}`;
const audio = document.getElementById("player");
const flash = document.getElementById("flash");

localizeTimes();

function showMessage(message, { error = true } = {}) {
  flash.classList.toggle("alert-error", error);
  flash.textContent = message;
  flash.hidden = false;
  flash.scrollIntoView({ block: "nearest" });
}

// ---------- Transcript: seek on click, highlight while playing ----------

const segments = [...document.querySelectorAll("#transcript .seg")].map((el) => ({
  el,
  start: Number(el.dataset.start) || 0,
  end: Number(el.dataset.end) || 0,
}));
let activeIndex = -1;
let lastManualScroll = 0;

/** Index of the last segment that started at or before `time` (segments are sorted). */
function segmentAt(time) {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].start <= time + 0.05) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function setActive(index, { follow }) {
  if (index === activeIndex) return;
  const previous = segments[activeIndex];
  previous?.el.classList.remove("is-active");
  previous?.el.removeAttribute("aria-current");
  activeIndex = index;
  const seg = segments[index];
  if (!seg) return;
  seg.el.classList.add("is-active");
  seg.el.setAttribute("aria-current", "true");
  // Follow playback only while the reader is following along: if they scrolled
  // the highlighted line out of view (or just did), don't yank them back.
  if (follow && previous && isOnScreen(previous.el) && Date.now() - lastManualScroll > 3000) {
    keepInView(seg.el);
  }
}

function visibleBand() {
  const top = document.querySelector(".player")?.getBoundingClientRect().bottom ?? 0;
  return { top: Math.max(0, top), bottom: window.innerHeight };
}

function isOnScreen(el) {
  const rect = el.getBoundingClientRect();
  const band = visibleBand();
  return rect.bottom > band.top && rect.top < band.bottom;
}

// Scroll gently, and only once the line leaves the comfortable middle of the screen.
function keepInView(el) {
  const rect = el.getBoundingClientRect();
  const band = visibleBand();
  if (rect.top >= band.top + 8 && rect.bottom <= band.bottom * 0.85) return;
  const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "auto" });
}

const SCROLL_KEYS = new Set(["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End"]);
const noteManualScroll = () => { lastManualScroll = Date.now(); };
window.addEventListener("wheel", noteManualScroll, { passive: true });
window.addEventListener("touchmove", noteManualScroll, { passive: true });
window.addEventListener("keydown", (e) => { if (SCROLL_KEYS.has(e.key)) noteManualScroll(); });

function seekTo(index) {
  const seg = segments[index];
  if (!seg || !audio) return;
  audio.currentTime = seg.start;
  setActive(index, { follow: false });
  audio.play().catch(() => {}); // autoplay policies may refuse; the seek still happened
}

document.getElementById("transcript")?.addEventListener("click", (e) => {
  const li = e.target.closest(".seg");
  if (!li) return;
  // Let people select text without jumping the audio.
  if (!e.target.closest("button") && window.getSelection()?.toString()) return;
  seekTo(segments.findIndex((s) => s.el === li));
});

audio?.addEventListener("timeupdate", () => {
  if (segments.length) setActive(segmentAt(audio.currentTime), { follow: !audio.paused });
});

// ---------- Live progress while queued/processing ----------

function applyUpdate(rec) {
  if (!rec || Number(rec.id) !== Number(recording.id)) return;
  // Finished (or failed): reload to show the transcript / error from the server.
  // The timestamp guards against a reload loop if page and API ever disagree.
  if (isTerminal(rec.status)) {
    unsubscribe?.();
    const key = `speakr:reloaded:${recording.id}`;
    if (Date.now() - Number(sessionStorage.getItem(key) || 0) > 10000) {
      sessionStorage.setItem(key, String(Date.now()));
      location.reload();
    } else {
      showMessage("Processing has finished. Reload the page to see the result.", { error: false });
    }
    return;
  }
  const badge = document.getElementById("rec-badge");
  badge.className = statusClass(rec.status);
  badge.textContent = statusLabel(rec.status);
  if (rec.title) document.getElementById("rec-title").textContent = rec.title;

  const panel = document.getElementById("progress-panel");
  const progress = Math.min(1, Math.max(0, Number(rec.progress) || 0));
  panel.dataset.status = rec.status;
  panel.hidden = false;
  panel.querySelector("progress").value = progress;
  panel.querySelector(".stage").textContent = rec.stage || rec.status;
  panel.querySelector(".percent").textContent = `${Math.round(progress * 100)}%`;
}

let unsubscribe = null;
if (!isTerminal(recording.status)) {
  unsubscribe = subscribeToRecordingEvents(applyUpdate, () => apiFetch(api), { interval: 2000 });
}

// ---------- Actions ----------

async function reprocess(button) {
  button.disabled = true;
  try {
    await apiFetch(`${api}/reprocess`, { method: "POST", json: { what: "transcription" } });
    location.reload();
  } catch (err) {
    showMessage(err.message);
    button.disabled = false;
  }
}

document.getElementById("retry")?.addEventListener("click", (e) => reprocess(e.currentTarget));

document.getElementById("reprocess")?.addEventListener("click", (e) => {
  if (confirm("Run the transcription again? The current transcript will be replaced.")) reprocess(e.currentTarget);
});

document.getElementById("delete")?.addEventListener("click", async (e) => {
  const title = document.getElementById("rec-title").textContent.trim();
  if (!confirm(`Delete “${title}”? This removes the audio and transcript and cannot be undone.`)) return;
  const button = e.currentTarget;
  button.disabled = true;
  try {
    await apiFetch(api, { method: "DELETE" });
    location.href = "/";
  } catch (err) {
    showMessage(err.message);
    button.disabled = false;
  }
});

// The Clipboard API only exists on secure origins (self-hosted installs are often
// plain http on a LAN) and may be denied, so fall back to the legacy copy command.
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // fall through
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("Copy failed");
}

document.getElementById("copy-transcript")?.addEventListener("click", async (e) => {
  const button = e.currentTarget;
  const transcript = recording.transcript || {};
  const text = transcript.text || (transcript.segments || []).map((s) => s.text).join("\n");
  try {
    await copyText(text);
    button.textContent = "Copied!";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = "Copy transcript"; }, 2000);
});

// Close the download menu on outside click or Escape.
const menu = document.querySelector("details.menu");
if (menu) {
  document.addEventListener("click", (e) => {
    if (menu.open && !menu.contains(e.target)) menu.open = false;
  });
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}
