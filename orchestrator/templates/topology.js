// The lab drawn as SVG: the server on top, clients on the left, workers on the right; the live page and the
// replay share it. Everything drawn also says itself in text: nothing is told by colour alone.
const SVGNS = "http://www.w3.org/2000/svg";
const BOX = {w: 150, h: 46};

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function layout(names, width, height) {
  const where = {}, clients = names.filter(n => n.startsWith("client")),
        workers = names.filter(n => n.startsWith("worker")),
        others = names.filter(n => n !== "server" && !clients.includes(n) && !workers.includes(n));
  where.server = {x: width / 2, y: 50};
  const column = (list, x) => list.forEach((n, i) => where[n] = {x, y: 150 + i * (height - 190) / Math.max(1, list.length - 1 || 1)});
  column(clients, 110);
  column(workers, width - 110);
  others.forEach((n, i) => where[n] = {x: width / 2 - (others.length - 1) * 90 + i * 180, y: height - 40});
  return where;
}

function human(bytes) {
  if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MiB";
  if (bytes >= 1024) return (bytes / 1024).toFixed(1) + " KiB";
  return Math.round(bytes) + " B";
}

// nodes: [{name, ip, note}]; lines: [{a, b, text, dashed, kind}] drawn a-b with text at the middle
function drawTopology(svg, nodes, lines, marks) {
  const width = 900, height = 440;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const where = layout(nodes.map(n => n.name), width, height);
  const linkLayer = svgEl("g", {"class": "links"});
  svg.appendChild(linkLayer);
  lines.forEach((line, index) => {
    const a = where[line.a], b = where[line.b];
    if (!a || !b) return;
    const g = svgEl("g", {"class": "link " + (line.kind || ""), "data-a": line.a, "data-b": line.b});
    const offset = (index % 3 - 1) * 10;
    g.appendChild(svgEl("line", {x1: a.x, y1: a.y + offset, x2: b.x, y2: b.y + offset,
      "stroke-width": line.width || 2, "stroke-dasharray": line.dashed ? "6 4" : "none"}));
    linkLayer.appendChild(g);
    const texts = String(line.text || "").split("\n").filter(t => t);
    if (!texts.length) return;
    const label = svgEl("g", {"class": "label-box"});
    g.appendChild(label);
    texts.forEach((t, i) => label.appendChild(svgEl("text", {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + offset - 6 + i * 14,
      "text-anchor": "middle", "class": "label"}, t)));
    const box = label.getBBox();  // a plain backing, so that the words never sit on the line
    label.insertBefore(svgEl("rect", {x: box.x - 3, y: box.y - 1, width: box.width + 6, height: box.height + 2, rx: 3}),
                       label.firstChild);
  });
  for (const node of nodes) {
    const p = where[node.name];
    const g = svgEl("g", {"class": "node" + (node.marked ? " marked" : ""), "data-node": node.name,
                          transform: `translate(${p.x - BOX.w / 2},${p.y - BOX.h / 2})`});
    g.appendChild(svgEl("rect", {width: BOX.w, height: BOX.h, rx: 6}));
    g.appendChild(svgEl("text", {x: BOX.w / 2, y: 19, "text-anchor": "middle", "class": "name"}, node.name));
    g.appendChild(svgEl("text", {x: BOX.w / 2, y: 36, "text-anchor": "middle", "class": "ip"}, node.ip || ""));
    (node.notes || []).forEach((t, i) => g.appendChild(svgEl("text", {x: BOX.w / 2, y: BOX.h + 15 + i * 14,
      "text-anchor": "middle", "class": "note"}, t)));
    svg.appendChild(g);
  }
  (marks || []).forEach(mark => {
    const a = where[mark.a], b = where[mark.b];
    if (!a || !b) return;
    const t = mark.at === undefined ? 0.5 : mark.at;
    const x = a.x + (b.x - a.x) * t, y = a.y + (b.y - a.y) * t;
    const g = svgEl("g", {"class": "mark " + (mark.kind || "")});
    g.appendChild(svgEl("circle", {cx: x, cy: y, r: 9}));
    g.appendChild(svgEl("text", {x: x, y: y - 13, "text-anchor": "middle", "class": "label"}, mark.text || ""));
    svg.appendChild(g);
  });
}
