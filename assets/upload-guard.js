// dcc.Upload silently drops a file over its max_size (plotly/dash#2638), so the user would
// see nothing happen. This guard reads the same limit from the upload's wrapper
// (data-max-bytes) and says so in the error alert instead.
(function () {
  function check(files, zone) {
    var wrapper = zone.closest("[data-max-bytes]");
    if (!wrapper || !files) { return; }
    var limit = parseInt(wrapper.getAttribute("data-max-bytes"), 10);
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > limit) {
        var mb = function (n) { return (n / 1048576).toFixed(1) + " MB"; };
        window.dash_clientside.set_props("error-alert", {
          is_open: true,
          children: files[i].name + ": " + mb(files[i].size) + " is over the " + mb(limit) +
            " upload limit",
        });
      }
    }
  }
  document.addEventListener("change", function (e) {
    var zone = e.target.closest && e.target.closest("#pattern-upload, #model-upload, #health-upload, .input-source-upload");
    if (zone) { check(e.target.files, zone); }
  }, true);
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("#pattern-upload, #model-upload, #health-upload, .input-source-upload");
    if (zone && e.dataTransfer) { check(e.dataTransfer.files, zone); }
  }, true);
})();
