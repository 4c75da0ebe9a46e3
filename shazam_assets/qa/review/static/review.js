// Loaded before model-viewer: point its optional decoders at this server (never a CDN),
// then report in words whether each model loaded, for the reviewer and for screen readers.
// On the comparison page, the models marked data-sync-camera follow each other: orbiting,
// zooming or panning one moves the others to the same camera.
self.ModelViewerElement = self.ModelViewerElement || {};
self.ModelViewerElement.dracoDecoderLocation = "/static/draco/";
self.ModelViewerElement.ktx2TranscoderLocation = "/static/basis/";

function reportLoading(viewer) {
  const status = document.getElementById(viewer.dataset.status || "viewer-status");
  if (!status) return;
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
}

function copyCamera(from, to) {
  const orbit = from.getCameraOrbit();
  const target = from.getCameraTarget();
  to.cameraOrbit = `${orbit.theta}rad ${orbit.phi}rad ${orbit.radius}m`;
  to.cameraTarget = `${target.x}m ${target.y}m ${target.z}m`;
  to.fieldOfView = `${from.getFieldOfView()}deg`;
  to.jumpCameraToGoal();
}

function syncCameras(viewers) {
  // Only a person's gesture is passed on: the moves this code makes (source "none") are not,
  // so two viewers never chase each other.
  for (const viewer of viewers) {
    viewer.addEventListener("camera-change", (event) => {
      if (!event.detail || event.detail.source !== "user-interaction") return;
      for (const other of viewers) if (other !== viewer && other.loaded) copyCamera(viewer, other);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("model-viewer").forEach(reportLoading);
  const synced = [...document.querySelectorAll("model-viewer[data-sync-camera]")];
  if (synced.length > 1) syncCameras(synced);
});
