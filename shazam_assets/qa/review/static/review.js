// Loaded before model-viewer: point its optional decoders at this server (never a CDN),
// then report in words whether the model loaded, for the reviewer and for screen readers.
self.ModelViewerElement = self.ModelViewerElement || {};
self.ModelViewerElement.dracoDecoderLocation = "/static/draco/";
self.ModelViewerElement.ktx2TranscoderLocation = "/static/basis/";

document.addEventListener("DOMContentLoaded", () => {
  const viewer = document.getElementById("viewer");
  const status = document.getElementById("viewer-status");
  if (!viewer || !status) return;
  viewer.addEventListener("load", () => {
    viewer.classList.add("is-loaded");
    status.textContent = "3D model loaded.";
    status.dataset.state = "loaded";
  });
  viewer.addEventListener("error", (event) => {
    const detail = event.detail && event.detail.type ? ` (${event.detail.type})` : "";
    status.textContent = `The 3D model could not be displayed${detail}.`;
    status.dataset.state = "error";
  });
});
