/* The /scan page: reads a QR with the camera (jsQR) and opens it when it is one of ours: an
   activity's check-in code (/activities/<id>/scan) or a merchant's counter code (/m/<code>).
   Only this site's own pages: a QR cannot send the volunteer elsewhere. */
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  if (!root) { return; }
  var video = document.getElementById("camera"), canvas = document.getElementById("frame"),
      status = document.getElementById("scan-status"), context = canvas.getContext("2d", {willReadFrequently: true});
  var OURS = [/^\/activities\/\d+\/scan$/, /^\/m\/[0-9A-Za-z-]{1,40}$/];

  function accept(text) {
    var url;
    try { url = new URL(text, location.href); } catch (e) { return false; }
    if (url.origin !== location.origin) { return false; }
    if (!OURS.some(function (pattern) { return pattern.test(url.pathname); })) { return false; }
    status.textContent = "✓";
    location.assign(url.pathname + url.search);
    return true;
  }
  window.jindouScanAccept = accept;  // what a test (or a typed link) hands the decoder's text to

  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR && window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      if (found && found.data) {
        if (accept(found.data)) { return; }
        status.textContent = root.dataset.textForeign;
      }
    }
    requestAnimationFrame(tick);
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { status.textContent = root.dataset.textDenied; return; }
  navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
    .then(function (stream) {
      video.srcObject = stream; video.play(); status.textContent = root.dataset.textLooking;
      requestAnimationFrame(tick);
    })
    .catch(function () { status.textContent = root.dataset.textDenied; });
})();
