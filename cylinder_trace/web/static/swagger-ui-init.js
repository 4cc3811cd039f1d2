// Starts Swagger UI. A file rather than inline script, so that the page's
// Content-Security-Policy can forbid inline script (see cylinder_trace/web/docs.py).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  var config = {
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    // Swagger UI would send the document to an outside validator for its badge.
    validatorUrl: null,
  };
  Object.assign(config, JSON.parse(root.dataset.config || "{}"));
  window.ui = SwaggerUIBundle(config);
});
