// Doorstep's service worker: keeps the app shell and the wasm data core in a cache so the
// app starts and reloads with no network. API calls and /sync always go to the network.
// BUILD is replaced by scripts/build-web.sh with a hash of the built files, so every new
// version of the app is a new service worker (the page then offers "reload").
const BUILD = "__BUILD__";
const CACHE = `doorstep-shell-${BUILD}`;
const SHELL = [
  "/",
  "/index.html",
  "/app.js",
  "/amend.js",
  "/caseload.js",
  "/clock.js",
  "/dashboard.js",
  "/handover.js",
  "/labels.js",
  "/markup.js",
  "/review.js",
  "/signin.js",
  "/visit.js",
  "/style.css",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/pkg/client_wasm.js",
  "/pkg/client_wasm_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sync" || url.pathname === "/healthz") return;
  const key = event.request.mode === "navigate" ? "/index.html" : url.pathname;
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(key).then((hit) => hit || fetch(event.request)),
    ),
  );
});
