// Upload page: drag & drop / file picker, sequential XHR uploads with progress.

// A static `import "./common.js"` would drop our ?v= cache-buster, so pass it along.
const { csrfToken, errorMessage } = await import(`./common.js${new URL(import.meta.url).search}`);

const dropzone = document.getElementById("dropzone");
const input = document.getElementById("file-input");
const list = document.getElementById("upload-list");
const titleInput = document.getElementById("upload-title");
const languageInput = document.getElementById("upload-language");

const queue = [];
let current = null; // the item being uploaded right now

function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function createRow(file) {
  const row = el("li", "card upload-row");
  const info = el("div", "upload-info");
  info.append(el("div", "upload-name", file.name), el("span", "upload-size muted small", formatSize(file.size)));
  const cancel = el("button", "btn btn-sm btn-ghost", "Cancel");
  cancel.type = "button";
  const bar = el("progress");
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload progress for ${file.name}`);
  const status = el("div", "upload-status", "Waiting…");
  row.append(info, cancel, bar, status);
  list.append(row);
  list.hidden = false;
  return { row, bar, status, cancel };
}

/** ok: true = success, false = error, null = neutral (cancelled). */
function finish(item, ok, message, recording) {
  if (ok !== null) item.ui.row.classList.add(ok ? "is-done" : "is-error");
  item.ui.cancel.remove();
  item.ui.status.textContent = message;
  if (recording?.id != null) {
    item.ui.bar.value = 1;
    const link = el("a", null, "Open recording →");
    link.href = `/recordings/${encodeURIComponent(recording.id)}`;
    item.ui.status.append(link);
  }
}

function upload(item) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", "/api/v1/recordings");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json"; // non-JSON bodies (e.g. a proxy's 413 page) become null

    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      item.ui.bar.value = e.loaded / e.total;
      item.ui.status.textContent = `Uploading… ${Math.floor((100 * e.loaded) / e.total)}%`;
    });
    xhr.upload.addEventListener("load", () => {
      item.ui.status.textContent = "Upload complete, saving…";
    });
    xhr.addEventListener("loadend", () => {
      if (item.cancelled) finish(item, null, "Cancelled");
      else if (xhr.status === 201 || xhr.status === 200) finish(item, true, "Queued", xhr.response);
      else finish(item, false, errorMessage(xhr.response, xhr.status));
      resolve();
    });

    const form = new FormData();
    form.append("file", item.file, item.file.name);
    if (item.title) form.append("title", item.title);
    if (item.language) form.append("language", item.language);
    item.ui.status.textContent = "Uploading… 0%";
    xhr.send(form);
  });
}

// One upload at a time so a batch doesn't split the bandwidth.
async function pump() {
  if (current) return;
  while (queue.length) {
    current = queue.shift();
    await upload(current);
    current = null;
  }
}

function addFiles(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  const title = files.length === 1 ? titleInput.value.trim() : "";
  const language = languageInput.value.trim();
  if (title) titleInput.value = ""; // a title belongs to exactly one recording

  for (const file of files) {
    const item = { file, title, language, cancelled: false, ui: createRow(file) };
    item.ui.cancel.addEventListener("click", () => {
      item.cancelled = true;
      if (item.xhr) {
        item.xhr.abort(); // loadend reports "Cancelled"
      } else {
        queue.splice(queue.indexOf(item), 1);
        finish(item, null, "Cancelled");
      }
    });
    queue.push(item);
  }
  pump();
}

document.getElementById("choose-files").addEventListener("click", () => input.click());
input.addEventListener("change", () => {
  addFiles(input.files);
  input.value = ""; // allow picking the same file again
});
dropzone.addEventListener("click", (e) => {
  if (!e.target.closest("button, a, input")) input.click();
});

// Drag & drop. Counting enter/leave avoids flicker when hovering child elements.
let dragDepth = 0;
const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
dropzone.addEventListener("dragenter", (e) => {
  if (!hasFiles(e)) return;
  dragDepth += 1;
  dropzone.classList.add("is-dragover");
});
dropzone.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dropzone.classList.remove("is-dragover");
});
dropzone.addEventListener("drop", (e) => {
  dragDepth = 0;
  dropzone.classList.remove("is-dragover");
  addFiles(e.dataTransfer.files);
});
// Stop the browser from opening a file dropped anywhere on the page (and losing the queue).
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
}

window.addEventListener("beforeunload", (e) => {
  if (!current && !queue.length) return;
  e.preventDefault();
  e.returnValue = ""; // older browsers need this to show the "leave page?" prompt
});
