// Viewer request of the pages (cloudfront-js-2.0): what `shazam serve` does before it reads the
// store (shazam_assets/publish/server.py). A folder URL means its index.html (S3 behind origin
// access control has no index documents), and a product folder named without its slash is
// redirected to it, because every URL in a page is relative to the page.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
    return request;
  }
  if (/^\/[0-9A-Z]{10}$/.test(uri)) {
    return {
      statusCode: 308,
      statusDescription: 'Permanent Redirect',
      headers: { location: { value: uri + '/' } },
    };
  }
  return request;
}
