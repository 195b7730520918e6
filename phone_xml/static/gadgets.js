// Call Analytics gadget: draw the outgoing-calls chart and switch between today, yesterday and 7 days.
(function () {
  "use strict";
  var holder = document.getElementById("chart");
  var dataNode = document.getElementById("chart-data");
  var select = document.getElementById("chart-period");
  var summary = document.getElementById("chart-summary");
  if (!holder || !dataNode || !select) { return; }
  var data = JSON.parse(dataNode.textContent);

  function draw(key) {
    var view = data.views[key];
    summary.textContent = view.summary;
    var trace = { type: "bar", x: view.x, y: view.y, marker: { color: "#0b6e99" },
      hovertemplate: "%{x}: %{y}<extra></extra>" };
    // label every n-th bar so the labels never overlap, whatever the width
    var room = Math.max(3, Math.floor(holder.clientWidth / 48));
    var step = Math.max(1, Math.ceil(view.x.length / room));
    var ticks = view.x.filter(function (_label, i) { return i % step === 0; });
    var layout = {
      margin: { l: 32, r: 8, t: 8, b: 40 }, height: 240, autosize: true,
      xaxis: { autorange: data.rtl ? "reversed" : true, tickangle: 0, automargin: true, fixedrange: true,
        type: "category", tickmode: "array", tickvals: ticks, ticktext: ticks },
      yaxis: { title: { text: data.yaxis }, rangemode: "tozero", tickformat: "d", fixedrange: true, side: data.rtl ? "right" : "left" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, sans-serif", size: 12 }
    };
    window.Plotly.react(holder, [trace], layout, { displayModeBar: false, responsive: true });
  }

  select.addEventListener("change", function () { draw(select.value); });
  window.addEventListener("resize", function () { draw(select.value); });
  draw(select.value);
}());
