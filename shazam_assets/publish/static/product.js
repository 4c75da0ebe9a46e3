// The product page: loaded before model-viewer, so its decoders come from this site (never a
// CDN); reports whether the 3D model loaded; and runs the 360° spin viewer, which needs no
// WebGL: it swaps <img> frames as the shopper drags or presses the arrow keys.
(function () {
  "use strict";
  const script = document.currentScript;
  self.ModelViewerElement = self.ModelViewerElement || {};
  if (script && script.dataset.draco) {
    self.ModelViewerElement.dracoDecoderLocation = new URL(script.dataset.draco, document.baseURI).href;
    self.ModelViewerElement.ktx2TranscoderLocation = new URL(script.dataset.basis, document.baseURI).href;
  }

  function watchModel(viewer, status) {
    viewer.addEventListener("load", () => {
      status.textContent = "3D model loaded.";
      status.dataset.state = "loaded";
    });
    viewer.addEventListener("error", (event) => {
      const detail = event.detail && event.detail.type ? ` (${event.detail.type})` : "";
      status.textContent = `The 3D model could not be displayed${detail}; the 360° view still works.`;
      status.dataset.state = "error";
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

  document.addEventListener("DOMContentLoaded", () => {
    const viewer = document.getElementById("viewer");
    const status = document.getElementById("viewer-status");
    if (viewer && status) watchModel(viewer, status);
    const spin = document.getElementById("spin");
    if (spin) spinViewer(spin);
  });
})();
