// The full-screen check-in QR (activities/qr.html).
(function () {
  // A new code every minute: reload the picture and the typed code at each minute's turn.
  var img = document.getElementById("qr"), codeEl = document.getElementById("code"),
      leftEl = document.getElementById("left"), left = parseInt(leftEl.textContent, 10);
  var imgUrl = img.getAttribute("src"), codeUrl = img.dataset.codeUrl;
  function refresh() {
    fetch(codeUrl, {credentials: "same-origin", cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (data) {
        codeEl.textContent = data.code; left = data.seconds_left;
        img.src = imgUrl + "&t=" + Date.now();
      }).catch(function () { left = 5; });
  }
  setInterval(function () {
    left -= 1;
    if (left <= 0) { refresh(); left = 60; }
    leftEl.textContent = Math.max(left, 0);
  }, 1000);
  if (document.documentElement.requestFullscreen) {
    img.addEventListener("click", function () { document.documentElement.requestFullscreen(); });
  }
})();
