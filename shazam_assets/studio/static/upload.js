// A delivery upload from the ASIN page straight to the store (shazam_assets/studio/uploads.py):
// start the upload, then for each part ask the studio for a short-lived URL and PUT that slice
// of the file there (three at a time, a failed part retried with a new URL), then complete it
// with the parts' ETags. The upload id and finished parts are kept in localStorage, so after a
// reload choosing the same file offers Resume; the store's own list of parts is what counts.
"use strict";
(function () {
  const box = document.getElementById("upload");
  if (!box) return;
  const api = box.dataset.api;
  const $ = (id) => document.getElementById(id);
  const input = $("upload-file"), startButton = $("upload-start"), resumeButton = $("upload-resume");
  const cancelButton = $("upload-cancel"), bar = $("upload-progress"), bytesText = $("upload-bytes");
  const statusText = $("upload-status");
  const PARALLEL = 3, TRIES = 5;
  let running = null; // {upload, cancelled, xhrs}

  const mb = (n) => (n / 1e6).toLocaleString(undefined, { maximumFractionDigits: 1 }) + " MB";
  const say = (text, error) => { statusText.textContent = text; statusText.classList.toggle("upload-error", !!error); statusText.classList.remove("muted"); };
  const memoryKey = (file) => "shazam-upload:" + box.dataset.asin + ":" + file.name + ":" + file.size + ":" + file.lastModified;
  const remembered = (file) => { try { return JSON.parse(localStorage.getItem(memoryKey(file)) || "null"); } catch (e) { return null; } };
  const remember = (file, state) => { try { localStorage.setItem(memoryKey(file), JSON.stringify(state)); } catch (e) { /* private mode: no resume */ } };
  const forget = (file) => { try { localStorage.removeItem(memoryKey(file)); } catch (e) { /* ignore */ } };

  class Refused extends Error {
    constructor(status, detail) {
      const d = detail || {};
      super(typeof d === "object" ? (d.code ? d.code + ": " : "") + (d.message || "") + (d.hint ? " — " + d.hint : "") : String(d));
      this.status = status; this.code = d.code;
    }
  }

  async function call(method, path, body) {
    const response = await fetch(path, {
      method, credentials: "same-origin", cache: "no-store",
      headers: body ? { "content-type": "application/json", accept: "application/json" } : { accept: "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); throw new Refused(401, "Signed out."); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Refused(response.status, data.detail || response.statusText);
    return data;
  }

  function put(url, blob, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      running.xhrs.add(xhr);
      xhr.open("PUT", url);
      xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        running.xhrs.delete(xhr);
        const etag = xhr.getResponseHeader("ETag");
        if (xhr.status >= 200 && xhr.status < 300 && etag) resolve(etag.replace(/"/g, ""));
        else reject(new Error("the store answered " + xhr.status + (etag ? "" : " without an ETag (is the bucket's CORS rule exposing ETag?)")));
      };
      xhr.onerror = () => { running.xhrs.delete(xhr); reject(new Error("the connection to the store failed")); };
      xhr.onabort = () => { running.xhrs.delete(xhr); reject(new Error("cancelled")); };
      xhr.send(blob);
    });
  }

  function showProgress(sent, total) {
    const percent = total ? Math.floor((sent / total) * 100) : 100;
    bar.hidden = false; bar.value = percent;
    bytesText.textContent = mb(sent) + " of " + mb(total) + " (" + percent + "%)";
  }

  async function uploadParts(file, upload, done) {
    const total = upload.size, sent = new Map(); // part number -> bytes sent of it
    for (const [n, etag] of Object.entries(done)) if (etag) sent.set(Number(n), partBytes(upload, Number(n)));
    const report = () => showProgress([...sent.values()].reduce((a, b) => a + b, 0), total);
    report();
    const queue = [];
    for (let n = 1; n <= upload.parts; n++) if (!done[n]) queue.push(n);
    async function worker() {
      while (queue.length && !running.cancelled) {
        const n = queue.shift();
        const slice = file.slice((n - 1) * upload.part_size, (n - 1) * upload.part_size + partBytes(upload, n));
        for (let attempt = 1; ; attempt++) {
          try {
            const signed = await call("POST", api + "/" + upload.upload + "/parts/" + n);
            done[n] = await put(signed.url, slice, (loaded) => { sent.set(n, loaded); report(); });
            sent.set(n, slice.size); report();
            remember(file, { upload: upload.upload, done });
            break;
          } catch (err) {
            if (running.cancelled || err instanceof Refused || attempt >= TRIES) throw err;
            sent.set(n, 0); report();
            say("Part " + n + " failed (" + err.message + "); trying again…");
            await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
          }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length || 1) }, worker));
  }

  const partBytes = (upload, n) => Math.min(upload.part_size, upload.size - (n - 1) * upload.part_size);

  async function run(file, resume) {
    running = { cancelled: false, xhrs: new Set() };
    startButton.disabled = true; resumeButton.hidden = true; cancelButton.hidden = false; input.disabled = true;
    let upload = null, done = {};
    try {
      const memory = resume ? remembered(file) : null;
      if (memory) {
        try {
          upload = await call("GET", api + "/" + memory.upload);
          for (const p of upload.done) if (p.size === partBytes(upload, p.number)) done[p.number] = p.etag;
          say("Resuming " + file.name + ": " + Object.keys(done).length + " of " + upload.parts + " parts are in the store.");
        } catch (err) {
          if (!(err instanceof Refused) || err.status !== 404) throw err;
          forget(file); upload = null; done = {};
        }
      }
      if (!upload) {
        upload = await call("POST", api, { name: file.name, size: file.size });
        remember(file, { upload: upload.upload, done });
        say("Uploading " + file.name + " in " + upload.parts + " part" + (upload.parts > 1 ? "s" : "") + "…");
      }
      running.upload = upload;
      await uploadParts(file, upload, done);
      if (running.cancelled) return;
      say("Finishing the upload…");
      const parts = Object.keys(done).map(Number).sort((a, b) => a - b).map((n) => ({ number: n, etag: done[n] }));
      const result = await call("POST", api + "/" + upload.upload + "/complete", { parts });
      forget(file);
      showProgress(upload.size, upload.size);
      box.dataset.uploaded = result.key;
      say("Uploaded " + result.name + " (" + mb(result.size) + "). Validation starts within a minute; its status appears below.");
      if (window.shazamStudio && window.shazamStudio.refreshDeliveries) window.shazamStudio.refreshDeliveries();
    } catch (err) {
      if (!running.cancelled) {
        say("The upload stopped: " + err.message + (upload ? " Press Resume to go on." : ""), true);
        if (upload && remembered(file)) resumeButton.hidden = false;
      }
    } finally {
      cancelButton.hidden = true; input.disabled = false; startButton.disabled = !input.files.length;
      running = null;
    }
  }

  async function cancel() {
    if (!running) return;
    const upload = running.upload;
    running.cancelled = true;
    for (const xhr of running.xhrs) xhr.abort();
    const file = input.files[0];
    if (file) forget(file);
    if (upload) await call("DELETE", api + "/" + upload.upload).catch(() => null);
    bar.hidden = true; bytesText.textContent = "";
    say("Upload cancelled.");
  }

  function chosen() {
    const file = input.files[0];
    startButton.disabled = !file;
    resumeButton.hidden = !(file && remembered(file));
    bar.hidden = true; bytesText.textContent = "";
    if (file && remembered(file)) say("An earlier upload of " + file.name + " is unfinished: press Resume to go on, or Upload to start again.");
    else if (file) say(file.name + ": " + mb(file.size) + ". Press Upload.");
  }

  input.addEventListener("change", chosen);
  startButton.addEventListener("click", () => {
    const f = input.files[0];
    if (!f) return;
    const earlier = remembered(f); // starting again: the unfinished upload is dropped
    if (earlier) call("DELETE", api + "/" + earlier.upload).catch(() => null);
    forget(f);
    run(f, false);
  });
  resumeButton.addEventListener("click", () => { const f = input.files[0]; if (f) run(f, true); });
  cancelButton.addEventListener("click", cancel);

  // An upload left unfinished (a reload, a closed tab): say so until the file is chosen again.
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i) || "";
    const prefix = "shazam-upload:" + box.dataset.asin + ":";
    if (key.startsWith(prefix)) {
      say("An upload of " + key.slice(prefix.length).split(":")[0] + " is unfinished: choose the same file and press Resume.");
      break;
    }
  }
})();
