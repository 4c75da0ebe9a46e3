// The catalogue's search box. Filtering by ASIN and title happens here, on the list the page
// was published with, so it works from S3 or from disk. When the page is served by
// `shazam serve`, its search API is asked too and the products it finds are shown as well;
// when the API does not answer, the page says so once and keeps filtering locally.
(function () {
  "use strict";

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function localMatch(item, query) {
    const haystack = `${item.dataset.asin} ${item.dataset.title}`.toLowerCase();
    return words(query).every((word) => haystack.includes(word));
  }

  // The API may answer a list, or {results|hits|items: [...]}, of ASIN strings or {asin} objects.
  function asinsFrom(data) {
    const list = Array.isArray(data) ? data : (data && (data.results || data.hits || data.items)) || [];
    return new Set(list.map((hit) => (typeof hit === "string" ? hit : hit && hit.asin)).filter(Boolean));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = document.getElementById("search");
    const form = document.getElementById("search-form");
    const status = document.getElementById("search-status");
    const empty = document.getElementById("no-results");
    const items = Array.from(document.querySelectorAll("#products .product"));
    const apiUrl = input.dataset.searchApi;
    let apiState = location.protocol.startsWith("http") && apiUrl ? "unknown" : "off";
    let asked = 0;
    let timer = null;

    function show(query, apiHits) {
      let shown = 0;
      for (const item of items) {
        const visible = !query || localMatch(item, query) || (apiHits && apiHits.has(item.dataset.asin));
        item.hidden = !visible;
        shown += visible ? 1 : 0;
      }
      empty.hidden = shown > 0;
      const source = apiState === "on" ? " (with the search service)" : "";
      status.textContent = query ? `${shown} of ${items.length} products match${source}.` : "";
      status.dataset.shown = String(shown);
      status.dataset.api = apiState;
      status.dataset.query = query;
    }

    async function askApi(query, ticket) {
      status.dataset.pending = "1";
      try {
        const response = await fetch(`${apiUrl}?text=${encodeURIComponent(query)}`,
          { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const hits = asinsFrom(await response.json());
        apiState = "on";
        if (ticket === asked) show(input.value.trim(), hits);
      } catch (error) {
        apiState = "off"; // not served by `shazam serve`: local filtering is the whole search
        if (ticket === asked) show(input.value.trim(), null);
      } finally {
        if (ticket === asked) status.dataset.pending = "0";
      }
    }

    function search() {
      const query = input.value.trim();
      asked += 1;
      status.dataset.pending = query && apiState !== "off" ? "1" : "0";
      show(query, null);
      if (query && apiState !== "off") askApi(query, asked);
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 150); });
    form.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(timer); search(); });
    const initial = new URLSearchParams(location.search).get("text");
    if (initial) { input.value = initial; search(); }
  });
})();
