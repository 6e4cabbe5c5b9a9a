// Starts Swagger UI on /api/v1/docs (web/templates/swagger_ui.html) without inline script.
// Swagger UI 5.3x windows long lists: from 150 tags + operations on (the whole API is past
// that) only the operations near the viewport are in the DOM, and from 100 schemas on the same
// holds for the Schemas box. That is not a rendering stop: scrolling draws the rest.
(function () {
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({url: container.dataset.specUrl, dom_id: "#swagger-ui-container"});
})();
