/* The counter poster's print button (no inline handlers: the pages run under a strict CSP). */
(function () {
  "use strict";
  var button = document.getElementById("poster-print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
