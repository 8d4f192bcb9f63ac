// The staff scanner: read the card's barcode with the camera where the browser has the
// BarcodeDetector API, else the code is typed. The code found is sent as ?code=.
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  var form = document.querySelector("[data-code-form]");
  if (!box || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  box.hidden = false;
  var video = box.querySelector("video");
  var start = box.querySelector("[data-camera-start]");
  start.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({formats: ["qr_code", "pdf417", "aztec", "code_128"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (stream) {
      video.srcObject = stream;
      video.play();
      start.hidden = true;
      var look = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (track) { track.stop(); });
            form.querySelector("input[name=code]").value = codes[0].rawValue;
            form.submit();
          } else { window.requestAnimationFrame(look); }
        }).catch(function () { window.setTimeout(look, 300); });
      };
      look();
    }).catch(function () { box.hidden = true; });
  });
})();
