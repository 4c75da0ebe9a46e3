// The delivery status on an ASIN's page follows the pipeline: the server renders it once, then
// this polls the status API (the same facts `shazam status` reads) until nothing is moving.
"use strict";
(function () {
  const box = document.getElementById("deliveries");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const text = (tag, cls, value) => {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (value !== undefined) el.textContent = value;
    return el;
  };
  function draw(status) {
    const list = text("ol", "deliveries");
    for (const d of status.deliveries) {
      const item = text("li", "delivery");
      item.dataset.outcome = d.outcome;
      item.dataset.name = d.name;
      item.dataset.version = d.version || "";
      const head = text("p");
      head.append(text("strong", "mono", d.name), " ", text("span", "badge badge-" + d.outcome, d.outcome));
      if (d.version) head.append(" ", text("span", "", "v" + d.version));
      item.append(head);
      const steps = text("ol", "steps");
      for (const s of d.steps) steps.append(text("li", "step step-" + s.state, s.name + (s.detail ? ": " + s.detail : "")));
      item.append(steps);
      if (d.errors.length) {
        const codes = text("ul", "codes");
        for (const e of d.errors) {
          const li = text("li");
          li.append(text("strong", "mono", e.code), " " + e.message);
          if (e.hint) li.append(" ", text("span", "hint", "— " + e.hint));
          codes.append(li);
        }
        item.append(codes);
      }
      if (d.decision && d.decision.notes) {
        const quote = text("blockquote", "qa-notes", d.decision.notes + " ");
        quote.append(text("span", "muted", "— " + d.decision.reviewer));
        item.append(quote);
      }
      list.append(item);
    }
    box.replaceChildren(status.deliveries.length ? list : text("p", "muted", "No delivery yet."));
  }
  // The stored versions table below is rendered by the server: when a delivery moves on (stored,
  // decided, published, removed), the page's own copy of that panel replaces it.
  const versionsPanel = document.getElementById("versions-panel");
  const shown = () => [...box.querySelectorAll("li.delivery")].map((li) => li.dataset.version + ":" + li.dataset.outcome).join(" ");
  async function refreshVersions() {
    if (!versionsPanel) return;
    const response = await fetch(location.pathname, { headers: { accept: "text/html" }, cache: "no-store" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("versions-panel");
    if (fresh) versionsPanel.replaceChildren(...fresh.childNodes);
  }
  let delay = 2000;
  async function poll() {
    try {
      const response = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
      if (response.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); return; }
      if (response.ok) {
        const status = await response.json();
        const before = shown();
        draw(status);
        if (shown() !== before) await refreshVersions();
        const moving = status.deliveries.some((d) => !d.finished);
        delay = moving ? 2000 : 10000;
      }
    } catch (err) {
      delay = Math.min(delay * 2, 30000);
    }
    setTimeout(poll, delay);
  }
  window.shazamStudio = Object.assign(window.shazamStudio || {}, { refreshDeliveries: poll });
  setTimeout(poll, delay);
})();
