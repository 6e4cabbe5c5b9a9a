// A new report: the location from the phone, and the photo count (reports/new.html).
(function () {
  var status = document.getElementById('location-status');
  var lat = document.getElementById('lat'), lng = document.getElementById('lng');
  function locate() {
    if (!navigator.geolocation) { status.textContent = status.dataset.unavailable; return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lng.value = position.coords.longitude.toFixed(6);
      status.textContent = status.dataset.found + ' (' + lat.value + ', ' + lng.value + ')';
    }, function () {
      status.textContent = status.dataset.unavailable;
    }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  }
  document.getElementById('locate').addEventListener('click', locate);
  locate();
  var photos = document.getElementById('photos'), count = document.getElementById('photo-count');
  photos.addEventListener('change', function () {
    var n = photos.files.length;
    count.textContent = n > 9 ? count.dataset.tooMany : (n ? n + ' / 9' : '');
  });
})();
