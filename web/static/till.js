/* The till: scans voucher QR codes with the camera (jsQR), or takes a typed short code, and
   shows a large green or red answer. A scan keeps its id, sent as Idempotency-Key, across
   network retries, so the server answers a retry with the first result, as the API does. */
(function () {
  "use strict";
  var root = document.getElementById("till");
  if (!root) { return; }
  var video = document.getElementById("till-video");
  var canvas = document.getElementById("till-canvas");
  var state = document.getElementById("till-camera-state");
  var result = document.getElementById("till-result");
  var form = document.getElementById("till-form");
  var input = document.getElementById("till-code");
  var PAUSE_AFTER_RESULT_MS = 2500;
  var SAME_CODE_IGNORED_MS = 6000;
  var MAX_ATTEMPTS = 3;
  var MAX_TYPED_CODE_LENGTH = 20;  // a short code as typed; a QR token is longer
  var busy = false;
  var lastCode = null;
  var lastCodeAt = 0;

  function scanId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function show(ok, message, detail) {
    result.hidden = false;
    result.className = "till-result " + (ok ? "ok" : "refused");
    result.innerHTML = "";
    var big = document.createElement("strong");
    big.textContent = ok ? "✓" : "✗";
    var text = document.createElement("span");
    text.textContent = message;
    result.appendChild(big);
    result.appendChild(text);
    if (detail) {
      var small = document.createElement("small");
      small.textContent = detail;
      result.appendChild(small);
    }
    if (navigator.vibrate) { navigator.vibrate(ok ? 80 : [60, 60, 60]); }
  }

  function send(code, id, attempt) {
    return fetch(root.dataset.redeemUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf,
                "Idempotency-Key": id},
      body: JSON.stringify({code: code})
    }).then(function (response) {
      return response.json().catch(function () { return {ok: false, message: root.dataset.textNetwork}; });
    }).catch(function (error) {
      if (attempt + 1 < MAX_ATTEMPTS) { return send(code, id, attempt + 1); }
      throw error;
    });
  }

  function typedCode(code) {
    return code.length <= MAX_TYPED_CODE_LENGTH ? code.toUpperCase() : "";
  }

  function redeem(code) {
    if (busy) { return; }
    busy = true;
    result.hidden = false;
    result.className = "till-result checking";
    result.textContent = root.dataset.textChecking;
    send(code, scanId(), 0).then(function (body) {
      // A refusal repeats a typed code, so the merchant sees which one was refused.
      show(body.ok, body.message, body.ok ? body.short_code : typedCode(code));
    }).catch(function () {
      show(false, root.dataset.textNetwork);
    }).finally(function () {
      setTimeout(function () { busy = false; }, PAUSE_AFTER_RESULT_MS);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    if (code) { busy = false; redeem(code); input.value = ""; }
  });

  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA && !busy && window.jsQR) {
      var width = video.videoWidth, height = video.videoHeight;
      canvas.width = width;
      canvas.height = height;
      var context = canvas.getContext("2d", {willReadFrequently: true});
      context.drawImage(video, 0, 0, width, height);
      var image = context.getImageData(0, 0, width, height);
      var found = window.jsQR(image.data, width, height, {inversionAttempts: "dontInvert"});
      if (found && found.data) {
        var now = Date.now();
        if (found.data !== lastCode || now - lastCodeAt > SAME_CODE_IGNORED_MS) {
          lastCode = found.data;
          lastCodeAt = now;
          redeem(found.data);
        }
      }
    }
    requestAnimationFrame(tick);
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    state.textContent = root.dataset.textNoCamera;
    return;
  }
  navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
    .then(function (stream) {
      // The camera's box shows only once there is a picture: no black box without a camera.
      document.getElementById("till-camera").hidden = false;
      video.srcObject = stream;
      return video.play();
    }).then(function () {
      state.textContent = root.dataset.textScanning;
      state.dataset.ready = "1";
      requestAnimationFrame(tick);
    }).catch(function () {
      state.textContent = root.dataset.textNoCamera;
    });
})();
