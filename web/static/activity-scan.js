// Scan a check-in QR with the camera (activities/scan.html).
(function () {
  var video = document.getElementById("camera"), canvas = document.getElementById("frame"),
      status = document.getElementById("scan-status"), context = canvas.getContext("2d");
  var texts = {looking: status.dataset.looking, denied: status.dataset.denied,
               foreign: status.dataset.foreign};
  function accept(text) {
    // Only our own scan pages: a QR cannot send the volunteer to another site.
    try { var url = new URL(text, location.href); } catch (e) { return false; }
    if (url.origin !== location.origin || !/^\/activities\/\d+\/scan$/.test(url.pathname)) return false;
    status.textContent = "✓";
    location.assign(url.pathname + url.search);
    return true;
  }
  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR && jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      if (found && found.data) {
        if (accept(found.data)) return;
        status.textContent = texts.foreign;
      }
    }
    requestAnimationFrame(tick);
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { status.textContent = texts.denied; return; }
  navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
    .then(function (stream) {
      video.srcObject = stream; video.play(); status.textContent = texts.looking;
      requestAnimationFrame(tick);
    })
    .catch(function () { status.textContent = texts.denied; });
})();
