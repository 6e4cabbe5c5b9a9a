// Starts Swagger UI on /api/v1/docs (web/templates/swagger_ui.html) without inline script.
(function () {
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({url: container.dataset.specUrl, dom_id: "#swagger-ui-container"});
})();
