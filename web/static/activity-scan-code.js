// Check in by typed or scanned code, with the location when the activity asks (activities/scan_code.html).
(function () {
  var form = document.getElementById("scan-form");
  function send() { form.submit(); }
  function locateThen(done) {
    if (form.dataset.locate !== "yes" || !navigator.geolocation) { done(); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements["lat"].value = position.coords.latitude;
      form.elements["lng"].value = position.coords.longitude;
      done();
    }, done, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  }
  form.addEventListener("submit", function (event) {
    if (form.dataset.located === "yes") return;
    event.preventDefault(); form.dataset.located = "yes"; locateThen(send);
  });
  // Opened from the QR code: the code is filled in, so check in at once.
  if (form.dataset.auto === "yes") { form.dataset.located = "yes"; locateThen(send); }
})();
