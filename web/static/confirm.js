// A form with data-confirm asks before it submits (no inline handlers: the pages run under a
// strict Content-Security-Policy).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);
