// The product page. A deferred script, so it runs after the page is parsed and before
// model-viewer (a module, run in document order after it): it points model-viewer's decoders at
// this site (never a CDN) and picks the model to load before the viewer starts: the phone
// derivative on small or touch screens, the desktop one otherwise, the master when the page has
// no derivative or the derivative fails to load. It reports whether the model loaded, offers
// the model's material variants, and runs the 360° spin viewer, which needs no WebGL: it swaps
// <img> frames as the shopper drags or presses the arrow keys.
(function () {
  "use strict";
  const script = document.currentScript;
  self.ModelViewerElement = self.ModelViewerElement || {};
  if (script && script.dataset.draco) {
    self.ModelViewerElement.dracoDecoderLocation = new URL(script.dataset.draco, document.baseURI).href;
    self.ModelViewerElement.ktx2TranscoderLocation = new URL(script.dataset.basis, document.baseURI).href;
  }
  const PHONE = "(max-width: 767px), (pointer: coarse)";

  function chooseModel(viewer) {
    const models = JSON.parse(viewer.dataset.models || "{}");
    const phone = self.matchMedia && self.matchMedia(PHONE).matches;
    const wanted = (phone && models.mobile) || models.web || models.master;
    if (wanted && viewer.getAttribute("src") !== wanted) viewer.setAttribute("src", wanted);
    return models;
  }

  function watchModel(viewer, status, models) {
    viewer.addEventListener("load", () => {
      const master = viewer.getAttribute("src") === models.master;
      const fellBack = master && Object.keys(models).length > 1; // it had a derivative to try
      status.textContent = fellBack ? "3D model loaded (full size)." : "3D model loaded.";
      status.dataset.state = "loaded";
      status.dataset.model = master ? "master" : "derivative";
    });
    viewer.addEventListener("error", (event) => {
      if (models.master && viewer.getAttribute("src") !== models.master) {
        status.textContent = "Loading the full-size 3D model…";
        viewer.setAttribute("src", models.master); // the derivative is missing or broken
        return;
      }
      const detail = event.detail && event.detail.type ? ` (${event.detail.type})` : "";
      status.textContent = `The 3D model could not be displayed${detail}; the 360° view still works.`;
      status.dataset.state = "error";
    });
  }

  function variantSwitcher(viewer, select) {
    viewer.addEventListener("load", () => {
      const offered = new Set(viewer.availableVariants || []);
      for (const option of Array.from(select.options)) option.disabled = !offered.has(option.value);
      select.value = viewer.variantName || select.options[0].value;
      select.closest("label").hidden = offered.size === 0;
    });
    select.addEventListener("change", () => {
      viewer.variantName = select.value;
    });
  }

  function spinViewer(root) {
    const img = root.querySelector("img");
    const frames = JSON.parse(root.dataset.frames);
    const count = frames.length;
    frames.forEach((src) => { new Image().src = src; }); // warm the cache: turning is instant
    let index = 0;
    let drag = null;

    function show(next) {
      index = ((next % count) + count) % count;
      img.src = frames[index];
      root.dataset.frame = String(index);
      root.setAttribute("aria-valuenow", String(index));
      root.setAttribute("aria-valuetext", `view ${index + 1} of ${count}`);
    }

    root.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, start: index };
      root.setPointerCapture(event.pointerId);
      root.classList.add("dragging");
    });
    root.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const step = Math.max(4, root.clientWidth / count); // one full drag across: one turn
      show(drag.start - Math.round((event.clientX - drag.x) / step));
    });
    const stop = () => { drag = null; root.classList.remove("dragging"); };
    root.addEventListener("pointerup", stop);
    root.addEventListener("pointercancel", stop);
    root.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
      if (event.key in moves) show(index + moves[event.key]);
      else if (event.key === "Home") show(0);
      else return;
      event.preventDefault();
    });
  }

  const viewer = document.getElementById("viewer");
  const status = document.getElementById("viewer-status");
  if (viewer && status) watchModel(viewer, status, chooseModel(viewer));
  const select = document.getElementById("variants");
  if (viewer && select) variantSwitcher(viewer, select);
  const spin = document.getElementById("spin");
  if (spin) spinViewer(spin);
})();
