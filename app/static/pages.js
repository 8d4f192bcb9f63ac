// The card page's one bit of behaviour: the Zalo button shares through the phone's share
// sheet (Zalo is on it where installed); without one it copies the link instead.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-share]");
  if (!button) return;
  var url = button.getAttribute("data-share"), text = button.getAttribute("data-share-text");
  if (navigator.share) {
    event.preventDefault();
    navigator.share({ text: text, url: url }).catch(function () {});
  } else if (navigator.clipboard) {
    event.preventDefault();
    navigator.clipboard.writeText(text + " " + url).then(function () {
      button.textContent = button.getAttribute("data-copied");
    });
  }
});
