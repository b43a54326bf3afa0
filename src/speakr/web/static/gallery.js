// Recordings gallery: localized dates + live status/progress updates.

// A static `import "./common.js"` would drop our ?v= cache-buster, so pass it along.
const { apiFetch, errorText, isTerminal, localizeTimes, statusClass, statusLabel, subscribeToRecordingEvents } =
  await import(`./common.js${new URL(import.meta.url).search}`);

const grid = document.getElementById("recordings");
localizeTimes();

const cardFor = (id) => grid.querySelector(`[data-recording-id="${Number(id)}"]`);
const knownIds = () => [...grid.querySelectorAll("[data-recording-id]")].map((el) => Number(el.dataset.recordingId));

// A new recording only belongs on this view if it's the unfiltered first page,
// and only ids newer than what we show are new (others live on later pages).
const showsNewest = grid.dataset.page === "1" && grid.dataset.filtered !== "true";
let reloading = false;

function updateCard(card, rec) {
  const status = rec.status || card.dataset.status;
  card.dataset.status = status;

  const badge = card.querySelector(".badge");
  badge.className = statusClass(status);
  badge.textContent = statusLabel(status);

  if (rec.title) card.querySelector(".rec-title").textContent = rec.title;

  const progress = Math.min(1, Math.max(0, Number(rec.progress) || 0));
  const box = card.querySelector(".rec-progress");
  box.hidden = isTerminal(status);
  box.querySelector("progress").value = progress;
  box.querySelector(".stage").textContent = rec.stage || status;
  box.querySelector(".percent").textContent = `${Math.round(progress * 100)}%`;

  const err = card.querySelector(".error-text");
  err.hidden = !rec.error;
  err.textContent = errorText(rec.error);
}

function onRecording(rec) {
  if (!rec || rec.id == null) return;
  const card = cardFor(rec.id);
  if (card) {
    updateCard(card, rec);
    return;
  }
  if (!showsNewest || reloading || Number(rec.id) <= Math.max(0, ...knownIds())) return;
  // At most one reload per 10 s, in case the page and the API ever disagree.
  const last = Number(sessionStorage.getItem("speakr:gallery-reload") || 0);
  if (Date.now() - last < 10000) return;
  sessionStorage.setItem("speakr:gallery-reload", String(Date.now()));
  reloading = true;
  location.reload();
}

subscribeToRecordingEvents(
  onRecording,
  async () => (await apiFetch("/api/v1/recordings?page=1"))?.items ?? [],
  { interval: 3000 },
);
