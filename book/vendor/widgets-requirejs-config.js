// Written for this book (not copied from npm).
// myst-nb loads it on pages that store ipywidgets state, after require.js and
// before jupyter-widgets/embed-amd.js. The widget bundles locate the icon fonts
// they load from their RequireJS module URL, which by default is relative to
// the page (e.g. notebooks/@jupyter-widgets/html-manager/dist/) and does not
// exist. Mapping the module ids to the folder of embed-amd.js makes the fonts
// load from _static/jupyter-widgets/, offline.
(function () {
  var script = document.currentScript;
  if (!script || typeof require === "undefined" || !require.config) {
    return;
  }
  var base = new URL("jupyter-widgets/", script.src).href.replace(/\/$/, "");
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": base,
      "@jupyter-widgets": base
    }
  });
})();
